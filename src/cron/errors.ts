/**
 * The two ways a cron schedule is refused: an expression that does not parse
 * (or can never fire), and a time zone the runtime does not know. Both are
 * {@link InvalidArgumentError}s, so callers that already branch on
 * `INVALID_ARGUMENT` need nothing new; the extra fields say where it went wrong.
 */
import { InvalidArgumentError } from '../errors.js';

/** Where in an expression a problem was found. */
export interface CronErrorPlace {
  /** The field's name (`minute`, `day of week` …), when one field is at fault. */
  field?: string;
  /** The field's 1-based position in the expression as written. */
  position?: number;
}

/** A cron expression was refused; the message says what is wrong and in which field. */
export class CronExpressionError extends InvalidArgumentError {
  readonly expression: string;
  readonly field: string | undefined;
  readonly position: number | undefined;

  constructor(expression: string, problem: string, place: CronErrorPlace = {}) {
    super(`Invalid cron expression "${expression}": ${problem}`);
    this.expression = expression;
    this.field = place.field;
    this.position = place.position;
  }
}

/** A time zone name the runtime's time-zone database does not know. */
export class UnknownTimeZoneError extends InvalidArgumentError {
  readonly timeZone: string;

  constructor(timeZone: string) {
    super(`Unknown time zone "${timeZone}": give an IANA name such as "Europe/Berlin" or "UTC"`);
    this.timeZone = timeZone;
  }
}
