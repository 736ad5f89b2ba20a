/** Where the chat view (extension/src/chat, from the chat issue) mounts; until it lands, say so plainly. */
export function ChatSlot() {
  return (
    <section className="chat-placeholder" aria-labelledby="chat-title" data-testid="chat-placeholder">
      <h2 id="chat-title">Chat</h2>
      <p>Chat about your list and this page is coming in a later version of Margin.</p>
      <p className="muted">Tasks and saving pages work now.</p>
    </section>
  );
}
