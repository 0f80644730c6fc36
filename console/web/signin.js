// The sign-in page: posts the access key id and secret as JSON; the server answers with an
// HttpOnly session cookie. Nothing is stored by this script.

const form = document.getElementById("signin-form");
const error = document.getElementById("signin-error");

/** Where to go after signing in: `?next=` when it is a console page, else the explorer. */
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^\/console\/[A-Za-z0-9/_?=&%.-]*$/.test(next) && !next.startsWith("/console/api/") ? next : "/console/metrics";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const resp = await fetch("/console/api/signin", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        accessKeyId: form.accessKeyId.value.trim(),
        secretAccessKey: form.secretAccessKey.value,
      }),
    });
    if (resp.ok) {
      form.secretAccessKey.value = "";
      location.assign(nextPage());
      return;
    }
    const body = await resp.json().catch(() => ({}));
    error.textContent = (body.error && body.error.message) || `Sign-in failed (HTTP ${resp.status}).`;
    error.hidden = false;
  } catch (e) {
    error.textContent = `Sign-in failed: ${e.message}`;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
});
