import { findingsOf, type Diagnosis } from '@runbooks/contracts';
import { ADDRESSES, NetTopology, netnsUnavailable, officeDiagnosisPlan } from '../test-support/net-topology';
import { createDiagnosisActivities } from './activities';

/**
 * The probes run the real tools from the office client's namespace of a real topology; each fault
 * is injected for real and the findings must name its layer and place.
 */
const unavailable = netnsUnavailable();
if (unavailable) console.warn(`diagnosis probes on a namespace topology skipped: ${unavailable}`);
const describeNetns = unavailable ? describe.skip : describe;

describeNetns('diagnosis probes on a network-namespace topology', () => {
  let topology: NetTopology;
  beforeEach(async () => {
    topology = await NetTopology.create();
  });
  afterEach(async () => {
    await topology.destroy();
  });

  const diagnose = (probeTimeoutSeconds = 10): Promise<Diagnosis> =>
    createDiagnosisActivities().diagnose({ plan: officeDiagnosisPlan(topology, { probeTimeoutSeconds }) });
  const lines = (d: Diagnosis) => d.findings.map((f) => f.text);

  test('a healthy network has no findings, and every probe passed', async () => {
    const d = await diagnose();
    expect(lines(d)).toEqual([]);
    expect(d.results.map((r) => `${r.probe.kind}:${r.status}`)).toEqual([
      'neighbour:ok',
      'ping:ok',
      'traceroute:ok',
      'tcp:ok',
      'dns:ok',
      'dns:ok',
      'http:ok',
    ]);
    expect(d.conclusions.dns).toMatch(/every resolver \(dns1, dns2\) answers/);
  });

  test('a resolver answering SERVFAIL is named, the other one is fine', async () => {
    topology.resolverServfail('dns2');
    const d = await diagnose();
    expect(lines(d)).toEqual([`DNS: resolver dns2 (${ADDRESSES.dns2}) answers SERVFAIL for erp.corp.test; dns1 is fine`]);
  });

  test('a resolver answering a wrong address is named with the address', async () => {
    topology.resolverWrongAddress('dns1');
    const d = await diagnose();
    expect(d.findings).toEqual([expect.objectContaining({ layer: 'dns', where: `dns1 (${ADDRESSES.dns1})` })]);
    expect(lines(d)[0]).toContain(`answers ${ADDRESSES.nowhere}`);
  });

  test('a stopped service is a refused port (transport), not also a failed HTTP check', async () => {
    topology.stopErp();
    const d = await diagnose();
    expect(d.findings).toEqual([expect.objectContaining({ layer: 'transport', where: `erp (${ADDRESSES.erp})` })]);
    expect(lines(d)[0]).toMatch(/refuses the connection/);
  });

  test('an nftables drop of the port is a filtered port', async () => {
    topology.dropOnCore({ tcpPort: 8080 });
    const d = await diagnose();
    expect(d.findings).toEqual([expect.objectContaining({ layer: 'transport' })]);
    expect(lines(d)[0]).toMatch(/gets no answer: a filter drops it/);
  });

  test('an nftables drop of ICMP on the core router: ping lost, the trace stops at core-router, TCP still answers', async () => {
    topology.dropOnCore({ icmp: true });
    const d = await diagnose();
    expect(d.findings).toEqual([expect.objectContaining({ layer: 'network', where: `core-router (${ADDRESSES.coreUplink})` })]);
    expect(lines(d)[0]).toMatch(/ICMP is filtered beyond core-router/);
  });

  test('a link down: the path breaks after the branch router, the ISP conclusion names the uplink, DNS is not blamed', async () => {
    topology.linkDown();
    const d = await diagnose();
    expect(lines(d)).toEqual([
      `network: the path from office to erp (${ADDRESSES.erp}) breaks after hop 1, branch-router (${ADDRESSES.branchOffice})`,
    ]);
    expect(d.conclusions.isp).toMatch(/beyond branch-router/);
    expect(d.conclusions.dns).toMatch(/not judged from office/);
  });

  test('a probe that outlives its timeout is stopped and reported as hanging; the diagnosis still ends with its findings', async () => {
    topology.linkDown();
    // The trace of a broken path waits one second per silent hop, one hop after another: longer than this timeout.
    const d = await diagnose(2);
    const trace = d.results.find((r) => r.probe.kind === 'traceroute');
    expect(trace?.status).toBe('hung');
    expect(trace?.summary).toMatch(/^hung, stopped at its timeout/);
    expect(findingsOf(officeDiagnosisPlan(topology), d.results).findings[0]?.text).toMatch(/breaks after hop 1, branch-router/);
  });
});
