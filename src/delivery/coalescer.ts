/**
 * Group commit for the lanes of one process: requests made in the same turn of the event loop
 * (and while the previous group's command is in flight) go to the server as one command. On
 * this kind of machine a command costs far more CPU than the documents in it, so 8 lanes'
 * lock inserts in one `insert` cost about what one did.
 *
 * `run` answers each request of a group in order (a result or an Error for that request alone);
 * when it throws, every request of the group fails with that error.
 */
export class Coalescer<Req, Res> {
  readonly #run: (requests: Req[]) => Promise<(Res | Error)[]>;
  #queue: { request: Req; resolve: (value: Res) => void; reject: (error: unknown) => void }[] = [];
  #busy = false;

  constructor(run: (requests: Req[]) => Promise<(Res | Error)[]>) {
    this.#run = run;
  }

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (!this.#busy) {
        this.#busy = true;
        // setImmediate runs after the poll phase: every lane woken by this round of replies has queued by then.
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      try {
        const results = await this.#run(group.map((entry) => entry.request));
        group.forEach((entry, i) => {
          const result = results[i];
          if (result instanceof Error) entry.reject(result);
          else entry.resolve(result);
        });
      } catch (error) {
        for (const entry of group) entry.reject(error);
      }
    }
    this.#busy = false;
  }
}
