// Fixtures with real counters: node1 of the running lab after one round of real probes from every
// client address to every NodePort, plain and with the one-line guard inserted by hand.
//
//   npm run lab -- fixtures --from-lab      (lab up; run once per mode/layout you want)
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mapLimit, withPreroutingRule } from '../lab-helpers';
import { probe } from '../probe';
import { readState } from '../state';
import { run } from '../sys/exec';
import { type LabNode, type LabTopology, labTopology } from '../topology';

const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

async function probeRound(topo: LabTopology, node: LabNode, v6: boolean): Promise<void> {
  const cases = topo.clients.flatMap((c) =>
    (v6 ? c.ipv6 : c.ipv4).flatMap((from) =>
      topo.nodePorts.filter((np) => np.protocol !== 'sctp').map((np) => ({ from, np })),
    ),
  );
  await mapLimit(cases, 4, ({ from, np }) =>
    probe(topo, { from, node: node.name, port: np.port, udp: np.protocol === 'udp', timeoutMs: 700 }),
  );
}

async function save(node: LabNode, v6: boolean): Promise<string> {
  return run([v6 ? 'ip6tables-save' : 'iptables-save', '-c'], { netns: node.netns });
}

export async function fixturesFromLab(log: (line: string) => void = console.log): Promise<string[]> {
  const state = await readState();
  if (!state)
    throw new Error('the lab is not up: npm run lab:up [-- --mode ipvs | --layout legacy | --ipv6]');
  const topo = labTopology(state.options);
  const node = topo.nodes[0]!;
  const o = topo.options;
  if (o.mode === 'nftables')
    throw new Error('fixtures --from-lab saves iptables dumps: bring the lab up in iptables or ipvs mode');
  const base = `lab-${o.mode === 'ipvs' ? 'ipvs' : `iptables-${o.layout}`}-node1`;
  const written: string[] = [];
  const put = async (file: string, text: string) => {
    await writeFile(join(FIXTURES_DIR, file), text);
    written.push(file);
    log(file);
  };
  for (const v6 of o.ipv6 ? [false, true] : [false]) {
    const tool = v6 ? 'ip6tables-save' : 'iptables-save';
    await probeRound(topo, node, v6);
    await put(`${base}.${tool}.txt`, await save(node, v6));
    const allowed = v6 ? topo.clients[0]!.ipv6[0]! : topo.clients[0]!.ipv4[0]!;
    const rule = [
      '-p',
      'tcp',
      '--dport',
      '30001',
      '!',
      '-s',
      allowed,
      '-j',
      'REDIRECT',
      '--to-ports',
      '65535',
    ];
    await withPreroutingRule(
      node,
      rule,
      async () => {
        await probeRound(topo, node, v6);
        await put(`${base}-oneliner.${tool}.txt`, await save(node, v6));
      },
      { v6 },
    );
  }
  if (o.mode === 'ipvs')
    await put(`${base}.ipset-list.txt`, await run(['ipset', 'list'], { netns: node.netns }));
  return written;
}
