import { describeError, isPosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';

export type CommandHandler = (args: Record<string, unknown>, cmdId: string) => Promise<unknown> | unknown;

export type CommandResult =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

/**
 * Cloud commands, run at most once per `cmdId` (remembered in SQLite before running) and recorded
 * as `cmd.executed`. A redelivered command gets the first result again.
 */
export class CommandService {
  private readonly handlers = new Map<string, CommandHandler>();
  private readonly stmt;

  constructor(
    db: Db,
    private readonly ledger: Ledger,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.stmt = {
      get: db.prepare<[string], { status: string; result: string | null }>(
        'SELECT status, result FROM commands WHERE cmd_id = ?',
      ),
      claim: db.prepare<[string, string, string]>(
        "INSERT INTO commands (cmd_id, name, status, at) VALUES (?, ?, 'running', ?)",
      ),
      finish: db.prepare<[string, string, string, string]>(
        'UPDATE commands SET status = ?, result = ?, at = ? WHERE cmd_id = ?',
      ),
    };
  }

  register(name: string, handler: CommandHandler): void {
    this.handlers.set(name, handler);
  }

  async run(cmdId: string, name: string, args: Record<string, unknown>): Promise<CommandResult> {
    const seen = this.stmt.get.get(cmdId);
    if (seen) {
      if (seen.status === 'running') {
        return {
          ok: false,
          error: { code: 'CMD_INTERRUPTED', message: 'this command was interrupted; it is not run twice' },
        };
      }
      return JSON.parse(
        seen.result ?? '{"ok":false,"error":{"code":"UNKNOWN","message":""}}',
      ) as CommandResult;
    }
    const handler = this.handlers.get(name);
    this.ledger.transact(() => this.stmt.claim.run(cmdId, name, this.now().toISOString()));
    let result: CommandResult;
    if (!handler) {
      this.log.warn({ cmdId, name: name.slice(0, 64) }, 'unknown command refused');
      result = { ok: false, error: { code: 'CMD_UNKNOWN', message: `no command ${name}` } };
    } else {
      try {
        result = { ok: true, result: (await handler(args, cmdId)) ?? {} };
      } catch (err) {
        result = {
          ok: false,
          error: { code: isPosError(err) ? err.code : 'CMD_FAILED', message: describeError(err) },
        };
        this.log.warn({ cmdId, name, err: describeError(err) }, 'command failed');
      }
    }
    this.ledger.transact(() => {
      this.stmt.finish.run(
        result.ok ? 'done' : 'failed',
        JSON.stringify(result),
        this.now().toISOString(),
        cmdId,
      );
      this.ledger.append('cmd.executed', {
        cmdId,
        name,
        ok: result.ok,
        ...(result.ok ? {} : { error: result.error }),
      });
    });
    return result;
  }
}
