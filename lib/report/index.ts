// From a finished training run to what is published with the model: the
// model card (README.md), the run record (run/) and its report.html.
export { renderModelCard, WIDGET_PROMPT } from './model-card.js';
export { renderReportHtml, renderDataTableHtml, tweetIntentUrl } from './report-html.js';
export { writeRunRecord, sha256, type RunRecordFiles } from './run-record.js';
export { RUN_RECORD_DIR, RUN_RECORD_FILES, RUN_RECORD_FORMAT } from './run-record-files.js';
export { escapeHtml, safeHttpUrl, safeDataImageUrl } from './escape-html.js';
export { codeSpan, escapeMarkdown } from './escape-markdown.js';
export { renderLineChart, type ChartSeries, type LineChartOptions } from './svg-line-chart.js';
