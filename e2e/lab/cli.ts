// `npm run lab -- <command>` (and lab:up / lab:down / lab:status): the lab's command line. Thin:
// parses arguments (args.ts) and calls the modules that do the work. Exit codes: 0 ok,
// 1 a probe did not reach a pod / the lab is not up, 2 bad input or failure.
import { Command } from 'commander';
import { MAX_NODES } from './addressing';
import { faultArgs, kubeProxyAction, probeArgs, upOptions } from './args';
import { labDown } from './down';
import { fault } from './faults';
import { fixturesFromLab } from './fixture-gen/from-lab';
import { regenerateFixtures } from './fixture-gen/regen';
import { restartKubeProxy, resyncKubeProxy } from './kube-proxy-node';
import { currentLab, probeLab } from './lab';
import { paths, readState } from './state';
import { labStatus } from './status';
import { findNode } from './topology';
import { labHealthy, labUp } from './up';

const say = (line: string) => console.log(line);
// `lab status | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const program = new Command('lab').description(
  'NodePort Guard test lab: a cluster of network namespaces (needs root)',
);

program
  .command('up')
  .description('build the lab (idempotent)')
  .option('--nodes <n>', `node namespaces, 1-${MAX_NODES}`, '3')
  .option('--clients <n>', 'client namespaces (5 source addresses each)', '1')
  .option('--mode <mode>', 'kube-proxy mode: iptables, ipvs or nftables', 'iptables')
  .option('--layout <layout>', 'iptables mode rule layout: current (kube-proxy >= 1.24) or legacy', 'current')
  .option('--ipv6', 'dual-stack nodes, clients, pods and services')
  .option('--json', 'print the status as JSON when done')
  .addHelpText(
    'after',
    `
How many nodes: at most ${MAX_NODES}, the address plan's ceiling: node N's pods are 198.19.N.0/24,
inside the cluster CIDR 198.19.0.0/17 (198.19.128.0/20 holds the service IPs), and every lab
address stays in 198.18.0.0/15 and 2001:2::/48. Nothing else stops at ${MAX_NODES}: link names
(npg-nN), ports (sshd :22 and pods :8080/:5353 on each node's own address) and the bridge
(1,024 ports) allow more. The machine does: each node is an sshd and a pod server (~10 MB
private memory) and costs ~0.3 s of CPU to build, so 100 nodes take ~35 s on 2 busy cores; each
SSH session to a node starts an sshd pair and a shell on the same CPUs as the test.`,
  )
  .action(
    async (raw: {
      nodes: string;
      clients: string;
      mode: string;
      layout: string;
      ipv6?: boolean;
      json?: boolean;
    }) => {
      const status = await labUp(upOptions(raw), raw.json ? () => undefined : say);
      if (raw.json) say(JSON.stringify(status));
    },
  );

program
  .command('down')
  .description('remove every namespace, link, process, user and file of the lab')
  .option('-v, --verbose', 'say what is removed')
  .action(async (raw: { verbose?: boolean }) => {
    await labDown(raw.verbose ? say : () => undefined);
    say('lab is down');
  });

program
  .command('status')
  .description('what is running')
  .option('--json', 'machine-readable: {workspace, nodes, clients, nodePorts}')
  .action(async (raw: { json?: boolean }) => {
    const state = await readState();
    if (!state) {
      console.error('lab is not up');
      process.exitCode = 1;
      return;
    }
    const topo = await currentLab();
    const status = labStatus(topo, paths.workspace);
    if (raw.json) {
      say(JSON.stringify(status));
      return;
    }
    const healthy = await labHealthy(state, topo);
    say(
      `lab ${healthy ? 'up' : 'DEGRADED (run lab:up to rebuild)'}: ${topo.options.mode} mode${topo.options.mode === 'iptables' ? ` (${topo.options.layout} layout)` : ''}${topo.options.ipv6 ? ', dual-stack' : ''}`,
    );
    say(`workspace ${status.workspace}`);
    for (const n of topo.nodes) {
      const p = state.processes[n.name] ?? {};
      say(
        `  ${n.name}  ${n.ipv4}${n.ipv6 ? ` ${n.ipv6}` : ''}  netns ${n.netns}  sshd ${p.sshd ?? '-'}  pods ${p.pods ?? '-'}`,
      );
    }
    for (const c of status.clients) say(`  client ${c.netns}: ${c.ips.join(' ')}`);
    for (const np of status.nodePorts) say(`  NodePort ${np.port}/${np.protocol}  ${np.service}`);
    if (!healthy) process.exitCode = 1;
  });

program
  .command('kube-proxy')
  .description('act like kube-proxy on the nodes')
  .option('--resync', 're-apply its chains with iptables-restore --noflush (nftables mode: nft -f), one sync')
  .option(
    '--restart',
    'delete and re-insert its -j KUBE-SERVICES jump at the top of nat PREROUTING (nftables mode: re-create its base chains)',
  )
  .option('--node <node>', 'only this node (default: all)')
  .action(async (raw: { resync?: boolean; restart?: boolean; node?: string }) => {
    const action = kubeProxyAction(raw);
    const topo = await currentLab();
    const nodes = raw.node ? [findNode(topo, raw.node)] : topo.nodes;
    for (const node of nodes) {
      if (!node) throw new Error(`no lab node ${raw.node}`);
      if (action === 'resync') await resyncKubeProxy(topo, node);
      else await restartKubeProxy(node, topo);
      const restarted =
        topo.options.mode === 'nftables'
          ? 'restarted (base chains of table kube-proxy re-created)'
          : 'restarted (KUBE-SERVICES jump first in PREROUTING)';
      say(`${node.name}: kube-proxy ${action === 'resync' ? 're-synced' : restarted}`);
    }
  });

program
  .command('probe')
  .description('send a real request from a client address to a node port')
  .requiredOption('--from <ip>', 'client source address')
  .requiredOption('--node <node>', 'node name, index or address')
  .requiredOption('--port <port>', 'NodePort')
  .option('--udp', 'UDP instead of TCP')
  .option('--timeout <ms>', 'timeout in milliseconds', undefined)
  .option('--json', 'print the result as JSON')
  .action(
    async (raw: {
      from?: string;
      node?: string;
      port?: string;
      udp?: boolean;
      timeout?: string;
      json?: boolean;
    }) => {
      const result = await probeLab(probeArgs(raw));
      if (raw.json) say(JSON.stringify(result));
      else {
        const who = result.pod ? ` by ${result.pod}` : '';
        say(
          `${result.outcome}${who}: ${result.protocol} ${result.from} -> ${result.to}:${result.port} (${result.detail})`,
        );
      }
      if (result.outcome === 'error') process.exitCode = 2;
      else if (result.outcome !== 'reached') process.exitCode = 1;
    },
  );

program
  .command('fault <name>')
  .description('sshd-stop | sshd-start | cut | uncut | restore-fail | restore-ok')
  .requiredOption('--node <node>', 'node name, index or address')
  .action(async (name: string, raw: { node?: string }) => {
    const f = faultArgs(name, raw.node);
    say(await fault(f.fault, f.node));
  });

program
  .command('fixtures')
  .description('regenerate e2e/lab/fixtures from real iptables-save output (temporary npgfx-* namespace)')
  .option('--from-lab', 'instead: save node1 of the running lab after real probes (non-zero counters)')
  .action(async (raw: { fromLab?: boolean }) => {
    if (raw.fromLab) await fixturesFromLab();
    else await regenerateFixtures();
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
