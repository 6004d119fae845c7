// The phone simulator (/simulator): texts typed here go to Kindred; its replies show as they arrive.
const urls = document.querySelector("main").dataset;
const thread = document.getElementById("thread");
const phone = document.getElementById("phone");
const body = document.getElementById("body");
const error = document.getElementById("error");
const headers = {
  "Content-Type": "application/json",
  "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content,
};
let shown = "";

async function refresh() {
  const res = await fetch(urls.thread, {
    method: "POST",
    headers,
    body: JSON.stringify({phone: phone.value}),
  });
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
  let res;
  try {
    res = await fetch(urls.send, {
      method: "POST",
      headers,
      body: JSON.stringify({phone: phone.value, body: body.value}),
    });
  } catch (e) {
    error.textContent = "Not sent: Kindred did not answer. Is the demo still running?";
    return;
  }
  if (!res.ok) {
    const detail = await res.json().catch(() => ({}));
    error.textContent = "Not sent: " + (detail.description || res.statusText || "error " + res.status);
    return;  // the text stays in the box to try again
  }
  body.value = "";
  refresh();
});
phone.addEventListener("change", () => { shown = ""; refresh(); });
setInterval(refresh, 1000);
refresh();
