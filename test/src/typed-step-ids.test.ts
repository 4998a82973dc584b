import path from 'node:path';
import ts from 'typescript';

const workflowsSrc = path.resolve(__dirname, '..', '..', 'workflows', 'src');

/** Type-checks a runbook body written against the engine, as if it were a file of workflows/src. */
function diagnosticsOf(body: string): string[] {
  const file = path.join(workflowsSrc, '__typed-ids-check.ts');
  const source = [
    "import { diskReplacementRunbook, type RunbookStartArgs } from '@runbooks/contracts';",
    "import { RunbookRun } from './engine/run';",
    'export async function check(args: RunbookStartArgs): Promise<void> {',
    '  const run = new RunbookRun(diskReplacementRunbook, args);',
    body,
    '}',
  ].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.fileExists = (name) => name === file || ts.sys.fileExists(name);
  host.getSourceFile = (name, version) => (name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('step, gate and task ids come from the runbook definition', () => {
  test('the ids the definition declares compile', () => {
    expect(
      diagnosticsOf(
        "  await run.task('swap-disk', { title: 't', instructions: 'i', assignee: 'tier1', evidence: {} });\n" +
          "  await run.step('notify-requester', async () => 1);",
      ),
    ).toEqual([]);
  });

  test('a misspelt step id, or a step used as a task, does not compile', () => {
    const errors = diagnosticsOf(
      "  await run.step('notify-requestr', async () => 1);\n" +
        "  await run.task('notify-requester', { title: 't', instructions: 'i', assignee: 'tier1', evidence: {} });",
    );
    expect(errors).toEqual([
      expect.stringContaining(
        `'"notify-requestr"' is not assignable to parameter of type '"swap-disk" | "notify-requester" | "write-report"'`,
      ),
      expect.stringContaining(`'"notify-requester"' is not assignable to parameter of type '"swap-disk"'`),
    ]);
  });
});
