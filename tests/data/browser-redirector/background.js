// Replaces a top-level navigation to a listed site with the district's "not allowed" page.
const LISTED = new Set(["replaced.lab.test"]);
const INSTEAD = "http://app.lab.test/not-allowed";

chrome.webNavigation.onBeforeNavigate.addListener((details) => {
  if (details.frameId !== 0) return;
  let host;
  try {
    host = new URL(details.url).hostname;
  } catch {
    return;
  }
  if (LISTED.has(host)) chrome.tabs.update(details.tabId, { url: INSTEAD });
});
