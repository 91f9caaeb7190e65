// The conversation as the user saw it: the activities the client received, rendered by Web Chat when
// botframework-webchat is installed (served at ./webchat.js from the local install), else by a plain
// built-in view (text, cards as their title and text, images, suggested actions).
import type { ChatActivity } from '../view.js';
import { h } from './dom.js';

interface Observer {
  next?(v: unknown): void;
  error?(e: unknown): void;
  complete?(): void;
}

interface WebChatGlobal {
  renderWebChat(props: Record<string, unknown>, el: HTMLElement): void;
}

/** A read-only Direct Line for Web Chat: it "receives" the recorded activities and never sends. */
class RecordedDirectLine {
  private readonly activityObservers = new Set<Observer>();
  private readonly delivered: unknown[] = [];
  readonly activity$ = observable((o) => {
    this.activityObservers.add(o);
    for (const a of this.delivered) o.next?.(a);
    return () => this.activityObservers.delete(o);
  });

  // 0 Uninitialized, 1 Connecting, 2 Online (botframework-directlinejs ConnectionStatus). Told after the
  // subscriber returns: Web Chat's connect saga starts listening for "online" only after subscribing.
  readonly connectionStatus$ = observable((o) => {
    const timer = setTimeout(() => {
      o.next?.(0);
      o.next?.(1);
      o.next?.(2);
    }, 0);
    return () => clearTimeout(timer);
  });

  push(activity: unknown): void {
    this.delivered.push(activity);
    for (const o of this.activityObservers) o.next?.(activity);
  }

  postActivity(): unknown {
    return observable((o) => {
      o.error?.(new Error('the inspector shows a recording: nothing is sent'));
      return () => {};
    });
  }

  end(): void {}
}

function observable(subscribe: (o: Observer) => () => void) {
  return {
    subscribe(next: Observer | ((v: unknown) => void), error?: (e: unknown) => void, complete?: () => void) {
      const o: Observer = typeof next === 'function' ? { next, error, complete } : next;
      const stop = subscribe(o);
      return { closed: false, unsubscribe: stop };
    },
  };
}

export class ChatView {
  private conversation: string | null = null;
  private shown = 0;
  private webChat: RecordedDirectLine | null = null;
  private webChatLoad: Promise<WebChatGlobal | null> | null = null;

  constructor(
    private readonly body: HTMLElement,
    private readonly mode: HTMLElement,
    private readonly useWebChat: boolean,
    private readonly onPick: (row: string) => void,
  ) {
    mode.textContent = useWebChat ? 'Web Chat' : 'built-in view (Web Chat is not installed)';
  }

  get current(): string | null {
    return this.conversation;
  }

  /** Shows `activities` of `conversation`; for the same conversation, only the new ones are added. */
  async show(conversation: string, activities: ChatActivity[]): Promise<void> {
    if (conversation !== this.conversation) {
      this.conversation = conversation;
      this.shown = 0;
      this.webChat = null;
      this.body.replaceChildren();
      this.body.classList.toggle('webchat', this.useWebChat);
    }
    const fresh = activities.slice(this.shown);
    this.shown = activities.length;
    if (activities.length === 0) {
      this.body.replaceChildren(h('p', { class: 'empty' }, 'The client received no activities in this conversation.'));
      return;
    }
    if (this.useWebChat && (await this.showInWebChat(conversation, activities, fresh))) return;
    if (this.body.querySelector('.empty')) this.body.replaceChildren();
    for (const a of fresh) this.body.append(...bubble(a, this.onPick));
  }

  private async showInWebChat(conversation: string, all: ChatActivity[], fresh: ChatActivity[]): Promise<boolean> {
    const WebChat = await this.loadWebChat();
    if (!WebChat || this.conversation !== conversation) return Boolean(WebChat);
    if (!this.webChat) {
      this.webChat = new RecordedDirectLine();
      const el = h('div', { style: 'height:100%', 'data-webchat': conversation });
      this.body.replaceChildren(el);
      const user = all.find((a) => a.role === 'user') as { raw?: { from?: { id?: string } } } | undefined;
      WebChat.renderWebChat(
        {
          directLine: this.webChat,
          userID: user?.raw?.from?.id,
          locale: 'en-US',
          styleOptions: { hideSendBox: true },
        },
        el,
      );
      fresh = all;
    }
    for (const a of fresh) this.webChat.push(withRole(a));
    return true;
  }

  private loadWebChat(): Promise<WebChatGlobal | null> {
    this.webChatLoad ??= new Promise((resolve) => {
      const w = window as unknown as { WebChat?: WebChatGlobal };
      if (w.WebChat) return resolve(w.WebChat);
      const s = document.createElement('script');
      s.src = './webchat.js';
      s.onload = () => resolve(w.WebChat ?? null);
      s.onerror = () => {
        this.mode.textContent = 'built-in view (webchat.js did not load)';
        resolve(null);
      };
      document.head.append(s);
    });
    return this.webChatLoad;
  }
}

/** Web Chat decides left/right by from.role: give it the role the read model settled. */
function withRole(a: ChatActivity): unknown {
  const raw = (a.raw ?? {}) as { from?: Record<string, unknown> };
  return { ...raw, from: { ...(raw.from ?? {}), role: a.role === 'user' ? 'user' : 'bot' } };
}

function bubble(a: ChatActivity, onPick: (row: string) => void): HTMLElement[] {
  const user = a.role === 'user';
  const b = h('div', { class: `bubble ${user ? 'user' : 'bot'}`, 'data-row': a.row, title: 'show the row that delivered it' });
  b.append(h('span', { class: 'who' }, `${a.name ?? a.role}${a.type !== 'message' ? ` · ${a.type}` : ''}`));
  if (a.text) b.append(a.text);
  for (const att of a.attachments ?? []) {
    if (att.contentType.startsWith('image/') && att.url?.startsWith('data:'))
      b.append(h('img', { src: att.url, alt: att.name ?? att.contentType }));
    else
      b.append(
        h(
          'div',
          { class: 'card' },
          h('strong', null, att.title ?? att.name ?? att.contentType),
          att.text ? h('div', null, att.text) : null,
          att.url && !att.url.startsWith('data:') ? h('div', { class: 'who' }, att.url) : null,
        ),
      );
  }
  if (!a.text && !a.attachments?.length && a.type !== 'message') b.append(h('em', null, a.type));
  b.addEventListener('click', () => onPick(a.row));
  const out = [b];
  if (a.suggestedActions?.length) out.push(h('div', { class: 'chips' }, ...a.suggestedActions.map((t) => h('span', null, t))));
  return out;
}
