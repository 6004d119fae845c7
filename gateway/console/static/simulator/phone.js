// The phone simulator (/simulator): texts typed here go to Kindred; its replies show as they arrive.
const thread = document.getElementById("thread");
const phone = document.getElementById("phone");
const body = document.getElementById("body");
const error = document.getElementById("error");
let shown = "";

async function refresh() {
  const res = await post(urls.thread, {phone: phone.value});
  if (!res.ok) return;
  const data = await res.json();
  const key = JSON.stringify(data.messages.map(m => [m.id, m.status]));
  if (key === shown) return;
  shown = key;
  thread.replaceChildren(...data.messages.map(m => {
    const el = document.createElement("div");
    el.className = "msg " + m.direction;
    el.textContent = m.body || "(picture)";
    if (m.direction === "outbound") {
      const s = document.createElement("span");
      s.className = "status";
      s.textContent = m.status;
      el.append(s);
    }
    return el;
  }));
  thread.scrollTop = thread.scrollHeight;
}

document.getElementById("compose").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!body.value.trim()) return;
  error.textContent = "";
  if (!await deliver(urls.send, {phone: phone.value, body: body.value}, error)) return;
  body.value = "";
  refresh();
});
phone.addEventListener("change", () => { shown = ""; refresh(); });
setInterval(refresh, 1000);
refresh();
