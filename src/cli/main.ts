export async function main(argv: string[]): Promise<number> {
  console.log('undertone', argv.join(' '));
  return 0;
}
