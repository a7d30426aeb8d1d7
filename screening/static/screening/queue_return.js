// "Back to the queue" returns to the queue as this tab last showed it (its filters and page), not as another tab
// did: the server keeps the last one of the whole session, each tab keeps its own here (sessionStorage is per tab).
// Without JavaScript, or with storage blocked, the server's address stands.
(function () {
  var key = "hsct-queue-query";
  try {
    if (document.querySelector("[data-queue-page]")) {
      sessionStorage.setItem(key, window.location.search);
    }
    var query = sessionStorage.getItem(key);
    if (query === null) {
      return;
    }
    document.querySelectorAll("a[data-back-to-queue]").forEach(function (link) {
      link.href = link.pathname + query;
    });
  } catch (error) {
    // storage refused (a privacy setting): the link goes where the server said
  }
})();
