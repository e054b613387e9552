/**
 * Per-volume state machine with transactions (protocol-and-servers.md §2.1.6): a foreground
 * operation moves a volume `from → temporary` (only along an existing edge from the current
 * state), then commits `temporary → to` (an existing edge) or rolls back to `from`. While a
 * transaction is open no other one can start.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { RequestError } from "../../protocol/errors.ts";

/** The edges of a role's state graph, as `[from, to]` pairs. */
export type StateEdges = readonly (readonly [string, string])[];

/** An open transaction; exactly one of commit/rollback ends it (dispose rolls back). */
export interface StateTransaction {
  readonly from: string;
  readonly temporary: string;
  /** Moves `temporary → to`; asserts the edge exists. */
  commit(to: string): void;
  /** Moves back to `from` unless already committed. */
  rollback(): void;
  [Symbol.dispose](): void;
}

/**
 * One volume's state.
 *
 * @example
 * ```ts
 * import { StateMachine } from "./state_machine.ts";
 * const sm = new StateMachine([["Clear", "InitVol"], ["InitVol", "SyncReady"]], "Clear");
 * const tx = sm.begin("Clear", "InitVol", "c2sInitVolServer");
 * tx.commit("SyncReady");
 * if (sm.state !== "SyncReady") throw new Error();
 * ```
 */
export class StateMachine {
  #edges: Set<string>;
  #state: string;
  #open: StateTransaction | undefined;

  constructor(edges: StateEdges, initial: string) {
    this.#edges = new Set(edges.map(([from, to]) => `${from}\0${to}`));
    this.#state = initial;
  }

  /** The current state name. */
  get state(): string {
    return this.#state;
  }

  /** True while a transaction is open. */
  get inTransaction(): boolean {
    return this.#open !== undefined;
  }

  /** True if `from → to` is an edge. */
  hasEdge(from: string, to: string): boolean {
    return this.#edges.has(`${from}\0${to}`);
  }

  /** Sets the state directly (startup load, debug commands); asserts no transaction is open. */
  set(state: string): void {
    assert(this.#open === undefined, "StateMachine.set during a transaction");
    this.#state = state;
  }

  /**
   * Starts `from → temporary`.
   *
   * @param context prefix of the error text (the handler's name)
   * @throws {RequestError} `<context>:StateMachineTransaction:bad state:<current>:<from>:<temporary>`
   *   when the current state is not `from`, or a transaction is open
   */
  begin(from: string, temporary: string, context: string): StateTransaction {
    assert(this.hasEdge(from, temporary), `state edge ${from} -> ${temporary} exists`);
    if (this.#open !== undefined || this.#state !== from) {
      throw new RequestError(
        `${context}:StateMachineTransaction:bad state:${this.#state}:${from}:${temporary}`,
      );
    }
    this.#state = temporary;
    let done = false;
    const transaction: StateTransaction = {
      from,
      temporary,
      commit: (to: string) => {
        assert(!done, "transaction already ended");
        assert(this.hasEdge(temporary, to), `state edge ${temporary} -> ${to} exists`);
        done = true;
        this.#open = undefined;
        this.#state = to;
      },
      rollback: () => {
        if (done) return;
        done = true;
        this.#open = undefined;
        this.#state = from;
      },
      [Symbol.dispose]: () => transaction.rollback(),
    };
    this.#open = transaction;
    return transaction;
  }

  /**
   * Starts a transaction from whichever of `froms` is the current state.
   *
   * @throws {RequestError} when the current state is none of them
   */
  beginFromAny(froms: readonly string[], temporary: string, context: string): StateTransaction {
    const from = froms.includes(this.#state) ? this.#state : froms[0]!;
    return this.begin(from, temporary, context);
  }
}

/**
 * Requires the current state to be one of `states`.
 *
 * @throws {RequestError} `<context>:bad state:<current>`
 */
export function verifyState(
  machine: StateMachine,
  states: readonly string[],
  context: string,
): void {
  if (!states.includes(machine.state)) {
    throw new RequestError(`${context}:bad state:${machine.state}`);
  }
}
