// CSV as spreadsheets and exporters write it (RFC 4180): comma-separated
// fields, a field in double quotes may hold commas, newlines and doubled
// quotes (""), rows end with LF or CRLF.

export interface CsvRecord {
  fields: string[];
  /** 1-based line of the file where the record starts (for error messages). */
  line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const input = text.startsWith('\ufeff') ? text.slice(1) : text; // Excel's byte-order mark
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    // A blank line is no record (a trailing newline, or spacing in the file).
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
  };
  while (i < input.length) {
    const char = input[i]!;
    if (char === '"' && field === '') {
      // A quoted field: read to the closing quote; "" is a quote inside it.
      const quoteLine = line;
      i++;
      for (;;) {
        if (i >= input.length) throw new CsvSyntaxError(quoteLine, `the quoted field opened on line ${quoteLine} never closes`);
        const inner = input[i]!;
        if (inner === '"') {
          if (input[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (inner === '\n') line++;
        field += inner;
        i++;
      }
      const after = input[i];
      if (after !== undefined && after !== ',' && after !== '\n' && after !== '\r') {
        throw new CsvSyntaxError(line, `unexpected text after the closing quote on line ${line}`);
      }
      continue;
    }
    if (char === ',') {
      fields.push(field);
      field = '';
      i++;
    } else if (char === '\n' || (char === '\r' && input[i + 1] === '\n')) {
      endRecord();
      i += char === '\r' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += char;
      i++;
    }
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}
