// The stylesheet of report.html, inlined into the page so that it opens the
// same from a disk, an archive or a hub's file view, with no network.
//
// The colours are variables: the dark palette replaces them on screens that
// ask for it, and print keeps the light one (dark mode is for screens only).
// The charts' strokes use the same variables, which is why the SVG carries
// classes rather than colours.
export const REPORT_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f5; --fg: #1d2125; --muted: #5d6873; --card: #ffffff; --border: #e2e5e9; --grid: #eceef1;
  --axis: #b4bbc3; --accent: #2f6fdf; --train: #a9c2f2; --valid: #e0590f; --lr: #7a45d6;
  --notice-bg: #fff6e0; --notice-border: #e6a92e; --tweet: #1d9bf0; --placeholder: #dde1e7;
}
@media screen and (prefers-color-scheme: dark) {
  :root {
    --bg: #121519; --fg: #e4e7eb; --muted: #98a3ae; --card: #1b1f24; --border: #2c3238; --grid: #23292f;
    --axis: #4a525b; --accent: #79a8ff; --train: #34507d; --valid: #ff8d4d; --lr: #b295fa;
    --notice-bg: #2a2414; --notice-border: #a8801f; --placeholder: #2c3238;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Color Emoji", sans-serif;
  -webkit-text-size-adjust: 100%;
}
main { max-width: 980px; margin: 0 auto; padding: 36px 24px 48px; }
h1 { font-size: 2.1rem; line-height: 1.15; margin: 0; overflow-wrap: anywhere; letter-spacing: -0.01em; }
h2 { font-size: 1.2rem; margin: 0 0 4px; }
h3 { font-size: 0.95rem; margin: 22px 0 8px; color: var(--muted); }
p { margin: 0 0 10px; }
.lead { color: var(--muted); margin-bottom: 14px; font-size: 0.95rem; }
section { background: var(--card); border: 1px solid var(--border); border-radius: 14px; padding: 22px 26px; margin: 18px 0; }

.hero { display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
.avatars { display: flex; flex: none; }
.hero > div:last-child { flex: 1 1 320px; min-width: 0; }
.avatar { position: relative; overflow: hidden; width: 96px; height: 96px; border-radius: 50%; border: 3px solid var(--bg); flex: none; }
.avatar + .avatar { margin-left: -22px; }
.placeholder { display: flex; align-items: center; justify-content: center; background: var(--placeholder); color: var(--muted); font-size: 40px; font-weight: 700; }
.photo { position: absolute; inset: 0; background-size: cover; background-position: center; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.kind { font-weight: 800; margin: 0 0 4px; font-size: 0.95rem; }
.who { margin: 6px 0 0; font-size: 1.05rem; }
.who .handle { color: var(--muted); }
.meta { color: var(--muted); font-size: 0.9rem; margin: 6px 0 0; }

.notice { border: 1px solid var(--notice-border); border-left-width: 5px; background: var(--notice-bg); padding: 12px 16px; border-radius: 10px; margin: 20px 0; }
.notice p { margin: 0; }
.notice p + p { margin-top: 6px; }

.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(145px, 1fr)); gap: 12px; margin: 22px 0; padding: 0; list-style: none; }
.stat { background: var(--card); border: 1px solid var(--border); border-radius: 12px; padding: 12px 16px; }
.stat .label { color: var(--muted); font-size: 0.82rem; font-weight: 600; }
.stat .value { display: block; font-size: 1.55rem; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.3; }
.stat .note { color: var(--muted); font-size: 0.8rem; }

.figure { overflow-x: auto; }
.chart { width: 100%; min-width: 560px; height: auto; display: block; margin-top: 6px; }
.chart text { fill: var(--muted); font-size: 12px; font-family: inherit; font-variant-numeric: tabular-nums; }
.chart .label { fill: var(--fg); font-size: 13px; }
.chart .grid line { stroke: var(--grid); stroke-width: 1; }
.chart .axis line { stroke: var(--axis); stroke-width: 1; }
.chart polyline { fill: none; stroke-linejoin: round; stroke-linecap: round; }
.chart .train { stroke: var(--train); stroke-width: 1.2; }
.chart .smoothed { stroke: var(--accent); stroke-width: 2.6; }
.chart .valid-line { stroke: var(--valid); stroke-width: 1.5; stroke-dasharray: 5 4; }
.chart .valid circle { fill: var(--valid); stroke: var(--card); stroke-width: 1.5; }
.chart .lr { stroke: var(--lr); stroke-width: 2.2; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 20px; margin: 10px 0 0; padding: 0; list-style: none; color: var(--muted); font-size: 0.88rem; }
.swatch { display: inline-block; width: 20px; height: 4px; border-radius: 2px; vertical-align: middle; margin-right: 7px; }
.swatch.train { background: var(--train); }
.swatch.smoothed { background: var(--accent); }
.swatch.valid { background: var(--valid); width: 9px; height: 9px; border-radius: 50%; }
.swatch.lr { background: var(--lr); }

.samples { list-style: none; padding: 0; margin: 0; display: grid; gap: 12px; }
.sample { border: 1px solid var(--border); border-radius: 12px; padding: 14px 18px; }
.sample p { margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 1.06rem; }
.sample .prompt { font-weight: 700; }
a.tweet { display: inline-block; font-size: 0.82rem; font-weight: 600; color: #fff; background: var(--tweet); padding: 3px 14px; border-radius: 999px; text-decoration: none; }
a.tweet:hover, a.tweet:focus-visible { filter: brightness(1.1); text-decoration: underline; }

table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 0.95rem; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--border); vertical-align: top; }
thead th { color: var(--muted); font-weight: 600; font-size: 0.82rem; }
tbody th { font-weight: 500; }
tbody tr:last-child > * { border-bottom: none; }
.num { text-align: right; }
caption { text-align: left; color: var(--muted); font-size: 0.85rem; padding-bottom: 4px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.85em; }
.hash { word-break: break-all; }
a { color: var(--accent); }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 8px 32px; }
ul.notes { margin: 8px 0 0; padding-left: 20px; color: var(--muted); }
footer { color: var(--muted); font-size: 0.88rem; text-align: center; margin-top: 30px; }

@media (max-width: 560px) {
  main { padding: 20px 12px 32px; }
  section { padding: 16px; }
  h1 { font-size: 1.6rem; }
}
@media print {
  @page { margin: 14mm; }
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .stat, .sample, .notice, tr, .figure, .hero { break-inside: avoid; }
  h2, h3, .lead { break-after: avoid; }
  section { padding: 14px 18px; margin: 12px 0; }
  .chart { min-width: 0; }
  section { border-color: #ccc; }
  a.tweet { display: none; }
}
`;
