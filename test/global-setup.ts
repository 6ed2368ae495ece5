/**
 * Runs once before the suite. Stages that need generated fixture models create them from their
 * own tests through `test/helpers/`; nothing here touches the network.
 */
export default function setup(): void {}
