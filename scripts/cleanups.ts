/**
 * What a bench must undo (servers, browsers, temporary folders), last first: run at the end, on an
 * error, and on Ctrl-C / SIGTERM (then the process exits 130). A failing step is logged, the rest still run.
 */
export function cleanupStack(name: string) {
  const steps: Array<() => unknown> = [];
  const run = async () => {
    while (steps.length > 0) {
      try {
        await steps.pop()!();
      } catch (err) {
        console.error(`${name}: cleanup failed:`, err);
      }
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void run().finally(() => process.exit(130)));
  return { push: (step: () => unknown) => void steps.push(step), run };
}
