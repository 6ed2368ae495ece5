/**
 * The prompt for language models without a chat template (story-completion models such as
 * stories260K): a plain transcript ending with the assistant's cue, and the lines that end a reply.
 */
import type { ChatMessage } from './types.js';

/** Text that marks the start of the next turn: generation stops there. */
export const TRANSCRIPT_STOP_TRIGGERS = ['\nUser:', '\nAssistant:'] as const;

/** `{system}\n\nUser: ...\nAssistant: ...\nUser: ...\nAssistant:` */
export function transcriptPrompt(messages: ChatMessage[]): string {
  const lines: string[] = [];
  for (const m of messages) {
    if (m.role === 'system') lines.push(`${m.content}\n`);
    else lines.push(`${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}`);
  }
  lines.push('Assistant:');
  return lines.join('\n');
}
