// Preloaded into the server for `pnpm screenshots` (NODE_OPTIONS=--import): its clock starts at
// MARGIN_FIXED_NOW and runs on from there, so "today", "tomorrow" and weekdays in the pictures are always the
// same days. Timers are untouched; only what Date says moves.
const fixed = Date.parse(process.env.MARGIN_FIXED_NOW ?? "");
if (Number.isNaN(fixed)) throw new Error("MARGIN_FIXED_NOW must be an ISO date-time");
const RealDate = Date;
const offset = fixed - RealDate.now();

class ShiftedDate extends RealDate {
  constructor(...args: ConstructorParameters<DateConstructor> | []) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...(args as ConstructorParameters<DateConstructor>));
  }
  static override now() {
    return RealDate.now() + offset;
  }
}
globalThis.Date = ShiftedDate as DateConstructor;
