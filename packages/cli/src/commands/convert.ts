export const usage = 'convert DIR';
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('gatehouse convert: not implemented yet\n');
  return 1;
}
