/* The review queue's forms: post a person's decision to POST /api/reconcile/unmatched/{id}/resolve
 * as {"action": "stall" | "intent" | "not_ours", "stall" | "intent": code, "why": reason}
 * (market.reconcile.review.ResolveIn) and say how it went; a refusal's problem+json "detail" is shown.
 */
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("review-config").textContent).strings;

  function decision(form) {
    var chosen = form.querySelector("input[name=target]:checked");
    var value = chosen ? chosen.value : "other";
    var body = { why: form.elements.why.value.trim() };
    if (value === "not_ours") {
      body.action = "not_ours";
    } else if (value === "other") {
      body.action = "stall";
      body.stall = form.elements.stall.value.trim();
    } else {
      var parts = value.split("|");
      body.action = parts[0];
      body[parts[0]] = parts[1];
    }
    return body;
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.resolve"), function (form) {
    form.elements.stall.addEventListener("input", function () {
      form.querySelector("input[name=target][value=other]").checked = true;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var output = form.querySelector("output");
      fetch(form.getAttribute("action"), {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(decision(form))
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw new Error(data.detail || String(response.status));
          output.textContent = S.done;
          Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
          form.parentNode.classList.add("resolved");
        });
      }).catch(function (error) {
        output.textContent = S.failed + ": " + error.message;
      });
    });
  });
})();
