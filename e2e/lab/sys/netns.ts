// Network namespaces by name (`ip netns`), so they outlive this process and `ip netns list` shows
// what the lab left behind.
import { run, runRaw } from './exec';

export async function listNetns(): Promise<string[]> {
  const out = await run(['ip', 'netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

export async function addNetns(name: string): Promise<void> {
  await run(['ip', 'netns', 'add', name]);
  await run(['ip', 'link', 'set', 'lo', 'up'], { netns: name });
}

/** Delete if present; never throws for a namespace that is already gone. */
export async function deleteNetns(name: string): Promise<void> {
  await runRaw(['ip', 'netns', 'delete', name]);
}

/** Create a namespace, run `fn` in it, always delete it afterwards. */
export async function withTempNetns<T>(name: string, fn: (ns: string) => Promise<T>): Promise<T> {
  await deleteNetns(name);
  await addNetns(name);
  try {
    return await fn(name);
  } finally {
    await deleteNetns(name);
  }
}
