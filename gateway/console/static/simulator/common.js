// What both simulators share: the page's endpoints, JSON posts with the CSRF token, and the
// words shown when a post fails.
const urls = document.querySelector("main").dataset;
const headers = {
  "Content-Type": "application/json",
  "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content,
};

function post(url, payload) {
  return fetch(url, {method: "POST", headers, body: JSON.stringify(payload)});
}

// Post what the person typed; on failure say why in `error` and return false (what they typed
// stays in its box, to try again).
async function deliver(url, payload, error) {
  let res;
  try {
    res = await post(url, payload);
  } catch (e) {
    error.textContent = "Not sent: Kindred did not answer. Is the demo still running?";
    return false;
  }
  if (!res.ok) {
    const detail = await res.json().catch(() => ({}));
    error.textContent = "Not sent: " + (detail.description || res.statusText || "error " + res.status);
    return false;
  }
  return true;
}
