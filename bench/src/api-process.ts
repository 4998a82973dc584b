/**
 * The API in a process of its own for the benches (see startBenchApiProcess in service.ts): the
 * load generator's HTTP clients and the API then each have their own event loop, as a client and
 * a server do in production, instead of one thread queueing both. Started with fork(); speaks
 * forkBenchServer's messages (serveBenchProcess).
 */
import { serveBenchProcess, startBenchApi, type BenchApiOptions } from './service';

serveBenchProcess<BenchApiOptions>(startBenchApi);
