"""The chat's CSS (Gradio theme variables only, so light and dark both read) and its browser scripts."""

from __future__ import annotations

CSS = """
/* one scroll area: the page; the question box stays at the bottom of the screen */
.gradio-container { overflow: clip !important; }  /* hidden would make it the scroller and unstick the box */
#qa-header { align-items: center; gap: .5rem; flex-wrap: nowrap; }
#qa-heading { min-width: 0 !important; flex: 1 1 0 !important; }
#qa-lang, #qa-clear { min-width: 0 !important; flex: 0 0 auto !important; width: fit-content !important; }
#qa-header h1 { margin: 0; font-size: var(--text-xl); color: var(--body-text-color); }
#qa-composer { position: sticky; bottom: 0; z-index: 20; background: var(--body-background-fill);
  padding-block: .4rem; border-top: 1px solid var(--border-color-primary); }
#qa-composer-row { align-items: flex-end; flex-wrap: nowrap; gap: .4rem; }
#qa-ask, #qa-clear { min-width: 4.5rem !important; flex: 0 0 auto !important; }
#qa-clear { white-space: nowrap; }
#qa-status { display: flex; justify-content: space-between; gap: 1rem; min-height: 1.2em; }
.qa-error { color: var(--error-text-color); font-weight: 600; }
.qa-count { color: var(--body-text-color); font-size: var(--text-sm); margin-left: auto; }
#qa-counter { text-align: end; }
.qa-ref { padding: 0 !important; margin: 0 !important; }
.qa-log, .qa-live { display: flex; flex-direction: column; gap: .8rem; padding-bottom: .5rem;
  color: var(--body-text-color); }
.qa-msg { max-width: 100%; }
.qa-user { align-self: flex-end; max-width: 85%; }
.qa-bubble { background: var(--background-fill-secondary); color: var(--body-text-color);
  border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: .5rem .8rem;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-bot { align-self: stretch; border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  padding: .6rem .8rem; background: var(--block-background-fill); }
.qa-answer { color: var(--body-text-color); font-size: var(--text-lg); line-height: 1.6; overflow-wrap: anywhere; }
.qa-writing { color: var(--body-text-color); }
.qa-ref { color: var(--link-text-color); font-weight: 600; text-decoration: none; }
.qa-ref:hover, .qa-ref:focus { text-decoration: underline; }
.qa-abstain { color: var(--body-text-color); background: var(--background-fill-secondary);
  border-left: 4px solid var(--border-color-accent); padding: .5rem .8rem; }
.qa-conflict { color: var(--body-text-color); background: var(--background-fill-secondary);
  border-left: 4px solid var(--color-accent); padding: .5rem .8rem; margin-top: .6rem; }
.qa-sources { margin-top: .6rem; }
.qa-sources-title { font-weight: 600; color: var(--body-text-color); }
.qa-source-label { color: var(--body-text-color); margin-top: .4rem; font-weight: 600; font-size: var(--text-sm); }
.qa-source summary { cursor: pointer; color: var(--body-text-color); font-size: var(--text-sm); }
.qa-passages { display: flex; gap: .6rem; flex-wrap: wrap; margin-top: .3rem; }
.qa-passage, .qa-twin { flex: 1 1 16em; padding: .4rem .6rem; background: var(--background-fill-secondary);
  color: var(--body-text-color); border-radius: var(--radius-md); overflow-wrap: anywhere; }
.qa-passage mark { background: var(--color-accent-soft); color: var(--body-text-color); }
.qa-label, .qa-reader { font-size: var(--text-sm); color: var(--body-text-color); display: block; opacity: 1; }
.qa-meta { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .4rem;
  margin-top: .5rem; }
.qa-actions { display: flex; gap: .2rem; }
.qa-action { display: inline-flex; align-items: center; padding: .3rem .45rem; }
.qa-action.qa-done { border-color: var(--color-accent); }
.qa-action, .qa-doclink, .qa-comment-send, .qa-example, .qa-doc-lang { cursor: pointer; color: var(--body-text-color);
  background: var(--button-secondary-background-fill); border: 1px solid var(--border-color-primary);
  border-radius: var(--radius-md); padding: .15rem .5rem; font: inherit; }
.qa-action[aria-pressed="true"], .qa-doc-lang[aria-pressed="true"] { border-color: var(--color-accent);
  background: var(--color-accent-soft); }
.qa-doclink { margin-top: .3rem; font-size: var(--text-sm); }
.qa-feedback { margin-top: .4rem; display: flex; flex-wrap: wrap; gap: .4rem; align-items: flex-end;
  color: var(--body-text-color); }
.qa-feedback p { margin: 0; flex-basis: 100%; font-size: var(--text-sm); }
.qa-comment { flex: 1 1 14em; background: var(--input-background-fill); color: var(--body-text-color);
  border: 1px solid var(--border-color-primary); border-radius: var(--radius-md); padding: .3rem; }
.qa-about { color: var(--body-text-color); }
.qa-about h2 { margin: .2rem 0 .4rem; font-size: var(--text-xl); }
.qa-about ul { margin: .2rem 0 .5rem 1.2rem; }
.qa-examples { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .6rem; }
.qa-examples-title { flex-basis: 100%; font-weight: 600; color: var(--body-text-color); }
.qa-example { text-align: start; }
.qa-docs { display: flex; gap: 1rem; align-items: flex-start; color: var(--body-text-color); }
.qa-docs-nav { flex: 0 0 16rem; font-size: var(--text-sm); }
.qa-docs-nav ul { list-style: none; margin: 0 0 .6rem; padding-left: .4rem; }
.qa-nav-2 { padding-left: .8rem; } .qa-nav-3 { padding-left: 1.6rem; }
.qa-nav-title { font-weight: 600; }
.qa-nav-doc > a { display: block; font-weight: 600; margin-top: .4rem; }
.qa-docs-nav a { color: var(--link-text-color); }
.qa-docs-body { flex: 1 1 auto; min-width: 0; }
.qa-doc header h2 { font-size: var(--text-lg); }
.qa-origin, .qa-doc-switch { font-size: var(--text-sm); color: var(--body-text-color); }
.qa-doc-part { margin-top: -.6em; }
.qa-doc-passage.qa-target { outline: 2px solid var(--color-accent); background: var(--background-fill-secondary); }
@media (max-width: 640px) {
  .gradio-container { padding: 0 .4rem !important; }
  #qa-header { flex-wrap: wrap; }
  #qa-heading { flex: 1 1 100% !important; }
  #qa-header h1 { font-size: var(--text-lg); }
  #qa-lang label { padding: .2rem .4rem; }
  .qa-about ul, .qa-about p { font-size: var(--text-sm); }
  .qa-docs { flex-direction: column; }
  .qa-docs-nav { position: static; flex-basis: auto; max-height: none; }
}
"""

# Runs once on the page: the Documents view's language switch and passage links, used by the chat too.
HEAD = """
<script>
(() => {
  function showText(doc, lang) {
    document.querySelectorAll(`.qa-doc-text[data-doc="${doc}"], .qa-nav-doc[data-doc="${doc}"]`)
      .forEach((el) => { el.hidden = el.getAttribute('lang') !== lang; });
    document.querySelectorAll(`.qa-doc-lang[data-doc="${doc}"]`)
      .forEach((el) => el.setAttribute('aria-pressed', String(el.dataset.lang === lang)));
  }
  function reveal(target) {
    const el = document.getElementById(target);
    if (!el) return false;
    const text = el.closest('.qa-doc-text');
    if (text) showText(text.dataset.doc, text.getAttribute('lang'));
    document.querySelectorAll('.qa-target').forEach((t) => t.classList.remove('qa-target'));
    el.classList.add('qa-target');
    el.scrollIntoView({block: 'center'});
    return true;
  }
  window.qaShowPassage = (target) => {
    const tab = document.getElementById('qa-docs-tab-button')
      || [...document.querySelectorAll('[role="tab"]')].find((b) => b.id && b.id.startsWith('qa-docs-tab'));
    if (tab) tab.click();
    let tries = 0;
    const attempt = () => { if (!reveal(target) && tries++ < 40) setTimeout(attempt, 50); };
    setTimeout(attempt, 0);
  };
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('.qa-doc-lang');
    if (button) { showText(button.dataset.doc, button.dataset.lang); return; }
    const link = event.target.closest && event.target.closest('.qa-docs-nav a');
    if (link) { event.preventDefault(); reveal(link.getAttribute('href').slice(1)); }
  });
})();
</script>
"""

# The chat log's own script (a gr.HTML js_on_load): citation links open this message's passage; buttons
# copy plain text or send 'vote', 'comment', 'retry', 'edit' and 'example' events to Python.
CHAT_JS = """
const copy = (button) => {
  const text = button.dataset.copy;
  const done = () => { button.classList.add('qa-done'); button.setAttribute('title', button.dataset.done); };
  const fallback = () => {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove(); done();
  };
  if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, fallback); else fallback();
};
element.addEventListener('click', (event) => {
  const el = event.target.closest('a.qa-ref, button');
  if (!el || !element.contains(el)) return;
  if (el.matches('a.qa-ref')) {
    event.preventDefault();
    const message = el.closest('.qa-msg');
    const box = message && message.querySelector('#' + CSS.escape(el.getAttribute('href').slice(1)));
    if (box) { box.open = true; box.scrollIntoView({block: 'nearest'}); box.querySelector('summary').focus(); }
    return;
  }
  const turn = el.dataset.turn;
  if (el.classList.contains('qa-copy')) copy(el);
  else if (el.classList.contains('qa-vote')) trigger('vote', {turn: turn, rating: el.dataset.rating});
  else if (el.classList.contains('qa-comment-send')) {
    const area = el.closest('.qa-feedback').querySelector('textarea');
    trigger('comment', {turn: turn, comment: area.value});
  }
  else if (el.classList.contains('qa-retry')) trigger('retry', {turn: turn});
  else if (el.classList.contains('qa-edit')) trigger('edit', {turn: turn});
  else if (el.classList.contains('qa-example')) trigger('example', {question: el.dataset.question});
  else if (el.classList.contains('qa-doclink')) window.qaShowPassage(el.dataset.target);
});
let seen = element.querySelectorAll('.qa-msg').length;
watch('value', () => {
  const messages = element.querySelectorAll('.qa-msg');
  if (messages.length > seen) messages[messages.length - 1].scrollIntoView({block: 'nearest'});
  seen = messages.length;
});
"""

# The turn being written (a gr.HTML js_on_load): keeps its newest text in view.
LIVE_JS = """
watch('value', () => {
  const pending = element.querySelector('.qa-pending');
  if (pending) pending.scrollIntoView({block: 'nearest'});
});
"""

# Sets <html lang> to the interface language: the language radio's change event runs it.
SET_LANG_JS = "(lang) => { document.documentElement.lang = lang; return lang; }"

# Keeps the character counter beside the question box up to date.
COUNTER_JS = """(text) => {
  const counter = document.querySelector('#qa-counter .qa-count');
  if (counter) counter.textContent = counter.textContent.replace(/^\\d+/, String((text || '').length));
  return text;
}"""
