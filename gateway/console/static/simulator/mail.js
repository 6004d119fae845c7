// The mailbox simulator (/simulator/mail): email Kindred sends to an address, and the member's replies.
const list = document.getElementById("list");
const reader = document.getElementById("reader");
const email = document.getElementById("email");
let shown = "";
let opened = null;
let mails = [];

function el(tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props || {});
  node.append(...children);
  return node;
}

async function refresh() {
  const res = await post(urls.messages, {email: email.value});
  if (!res.ok) return;
  mails = (await res.json()).messages;
  const key = JSON.stringify(mails.map(m => m.id));
  if (key === shown) return;
  shown = key;
  if (!mails.length) {
    list.replaceChildren(el("li", {className: "hint empty", textContent: "No email yet."}));
    return;
  }
  list.replaceChildren(...mails.slice().reverse().map(m => {
    const button = el("button", {type: "button"},
      el("span", {className: "subject", textContent: m.subject || "(no subject)"}),
      el("span", {className: "who", textContent: m.direction === "outbound" ? m.from : "You wrote"}));
    button.setAttribute("aria-current", String(m.id === opened));
    button.addEventListener("click", () => open(m.id));
    return el("li", {}, button);
  }));
}

function open(id) {
  const m = mails.find(x => x.id === id);
  if (!m) return;
  opened = id;
  shown = "";
  refresh();
  const parts = [el("h2", {textContent: m.subject || "(no subject)"})];
  if (m.direction === "inbound") {
    parts.push(el("p", {className: "meta", textContent: "Your reply"}), el("div", {className: "mine", textContent: m.text}));
    reader.replaceChildren(...parts);
    return;
  }
  parts.push(el("p", {className: "meta", textContent: "From " + m.from + " · Reply-To " + m.reply_to}));
  const frame = el("iframe", {title: "Email", sandbox: ""});
  frame.srcdoc = m.html;
  parts.push(frame);
  const form = el("form", {id: "reply"});
  const box = el("textarea", {id: "reply-body", placeholder: "Write your reply", ariaLabel: "Reply"});
  const error = el("p", {id: "error", role: "alert"});
  form.append(el("label", {htmlFor: "reply-body", textContent: "Reply as the member"}), box, error,
    el("button", {type: "submit", className: "primary", textContent: "Send reply"}));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!box.value.trim()) return;
    error.textContent = "";
    if (!await deliver(urls.reply, {email: email.value, message: m.id, body: box.value}, error)) return;
    box.value = "";
    error.textContent = "";
    form.replaceWith(el("p", {className: "hint", id: "replied", textContent: "Reply sent. It lands in the console inbox."}));
    refresh();
  });
  parts.push(form);
  reader.replaceChildren(...parts);
}

email.addEventListener("change", () => { shown = ""; opened = null; refresh(); });
setInterval(refresh, 1500);
refresh();
