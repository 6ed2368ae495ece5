import { describe, expect, it } from 'vitest';
import {
  ConversationHistory,
  estimateTokens,
  formatEmotionNote,
} from '../../src/llm/conversation-history.js';

/** One token per word makes budgets easy to reason about. */
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

describe('ConversationHistory', () => {
  it('starts with the system prompt', () => {
    const history = new ConversationHistory({ systemPrompt: 'Be brief.', historyTokens: 100 });
    history.addUser('Hi');
    expect(history.messages()).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
  });

  it('drops the oldest turns first and keeps the system prompt', () => {
    // system: 2 words + 4 overhead = 6; each turn: 3 words + 4 = 7.
    const history = new ConversationHistory({
      systemPrompt: 'Be brief.',
      historyTokens: 30,
      countTokens: words,
    });
    for (let i = 1; i <= 4; i++) {
      history.addUser(`question number ${i}`);
      history.addAssistant(`answer number ${i}`);
    }
    const messages = history.messages();
    expect(messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(messages.slice(1).map((m) => m.content)).toEqual([
      'question number 4',
      'answer number 4',
    ]);
    expect(history.tokens).toBeLessThanOrEqual(30);
  });

  it('never starts the window with an assistant turn', () => {
    // 6 + 7 * 3 = 27 fits three turns, but that window would begin with an answer.
    const history = new ConversationHistory({
      systemPrompt: 'Be brief.',
      historyTokens: 27,
      countTokens: words,
    });
    history.addUser('question number 1');
    history.addAssistant('answer number 1');
    history.addUser('question number 2');
    history.addAssistant('answer number 2');
    expect(history.messages().map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
  });

  it('keeps the newest turn even when it alone exceeds the budget', () => {
    const history = new ConversationHistory({
      systemPrompt: 'S',
      historyTokens: 10,
      countTokens: words,
    });
    history.addUser('a very long question that certainly does not fit the budget at all');
    expect(history.turnCount).toBe(1);
  });

  it('keeps only the played part of a reply after a barge-in', () => {
    const history = new ConversationHistory({ systemPrompt: 'S', historyTokens: 100 });
    history.addUser('Tell me a story');
    history.addAssistant('Once upon a time there was a dragon who loved tea.');
    history.replaceLastAssistant('Once upon a time ');
    expect(history.messages().at(-1)).toEqual({ role: 'assistant', content: 'Once upon a time' });

    history.replaceLastAssistant('');
    expect(history.messages().at(-1)).toEqual({ role: 'user', content: 'Tell me a story' });
    history.replaceLastAssistant('ignored: the last turn is the user');
    expect(history.turnCount).toBe(1);
  });

  it('attaches an emotion note to a user turn', () => {
    const history = new ConversationHistory({ systemPrompt: '', historyTokens: 100 });
    history.addUser('Where is my order?', { label: 'frustrated', arousal: 0.62 });
    expect(history.messages()).toEqual([
      { role: 'user', content: 'Where is my order? (caller sounds frustrated, arousal 0.6)' },
    ]);
    expect(formatEmotionNote({ label: 'calm', valence: 0.25 })).toBe(
      '(caller sounds calm, valence 0.3)',
    );
  });

  it('estimates tokens at about four characters each, CJK one each', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('你好世界')).toBe(4);
  });
});
