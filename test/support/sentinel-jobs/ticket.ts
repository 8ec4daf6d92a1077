/**
 * The job of the Sentinel failover test: it does nothing, so the worker
 * completes it at once and the test measures the queue, not the job.
 */
export class Ticket {
  static klass = 'ticket.Ticket';

  static process(): void {
    // Returning without completing: the worker completes the job.
  }
}
