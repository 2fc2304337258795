import type { Response } from 'express';

/**
 * Responses that fault injection deliberately leaves unanswered (`hang`, `commit_then_fail:
 * "timeout"`). Each stays open until its client gives up; `destroyAll()` lets stop() drop the
 * ones still held at once, rather than waiting for the server's grace period to run out.
 */
export class HeldResponses {
  private readonly held = new Set<Response>();

  hold(res: Response): void {
    this.held.add(res);
    res.once('close', () => this.held.delete(res));
  }

  get size(): number {
    return this.held.size;
  }

  destroyAll(): void {
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }
}
