/**
 * CSV as RFC 4180 writes it (and Excel, pandas and csv.writer): comma-separated fields, double-quoted fields
 * that may hold commas, newlines and doubled quotes, CRLF or LF line ends. Returns the rows as arrays of
 * fields; an unterminated quoted field is an error naming the file and line.
 */
import { AudioSaeError } from '../errors.ts';

export function parseCsv(text: string, file: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let quoteLine = 0;
  let i = 0;
  const endField = () => {
    row.push(field);
    field = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      quoteLine = line;
    } else if (ch === ',') {
      endField();
    } else if (ch === '\n' || ch === '\r') {
      endField();
      rows.push(row);
      row = [];
      if (ch === '\r' && text[i + 1] === '\n') i++;
      line++;
    } else {
      field += ch;
    }
    i++;
  }
  if (quoted) throw new AudioSaeError(`has a quoted field opened on line ${quoteLine} that never closes.`, file);
  if (field !== '' || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}
