import { describe, expect, it } from "vitest";
import { csvLine, parseCsv, unguard } from "../../src/account/csv.ts";

describe("CSV", () => {
  it("reads what it writes: commas, quotes, line breaks, empty fields", () => {
    const rows = [
      ["a", "b,c", 'say "hi"', "two\nlines", ""],
      ["", "x", "\r\nwindows", "trailing space ", "ü 🙂"],
    ];
    expect(parseCsv(rows.map(csvLine).join(""))?.map((row) => row.map(unguard))).toEqual(rows);
  });

  it("quotes a cell that starts like a spreadsheet formula, and reads it back unquoted", () => {
    for (const cell of ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx"]) {
      const [row] = parseCsv(csvLine([cell]))!;
      expect(row![0]!.startsWith("'")).toBe(true);
      expect(unguard(row![0]!)).toBe(cell);
    }
    expect(csvLine(["plain - text"])).toBe("plain - text\r\n");
    expect(unguard("'quoted on purpose")).toBe("'quoted on purpose");
  });

  it("takes a byte-order mark, LF or CRLF line ends and a last line without one", () => {
    expect(parseCsv("\uFEFFTYPE,CONTENT\ntask,a\r\ntask,b")).toEqual([
      ["TYPE", "CONTENT"],
      ["task", "a"],
      ["task", "b"],
    ]);
  });

  it("refuses a quoted field that never ends", () => {
    expect(parseCsv('a,"b\nc')).toBeNull();
  });
});
