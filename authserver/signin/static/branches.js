// Offer the Branch ID as a list once User ID and Company ID are filled in. Without JavaScript (or when the
// lookup fails) the Branch ID stays a text field, so the form always works.
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("form[data-branches-url]");
    if (!form) { return; }
    var login = form.querySelector("#login");
    var company = form.querySelector("#company_id");
    var status = document.getElementById("branch-lookup-status");
    var csrf = form.querySelector("input[name=csrf_token]");
    var asked = "";

    function branchField() { return form.querySelector("#branch_id"); }

    function showText(message) { status.textContent = message || ""; }

    function useSelect(branches) {
      var current = branchField();
      var select = document.createElement("select");
      select.id = "branch_id";
      select.name = "branch_id";
      select.className = "field-input";
      var describedBy = current.getAttribute("aria-describedby");
      if (describedBy) { select.setAttribute("aria-describedby", describedBy); }
      branches.forEach(function (branch) {
        var option = document.createElement("option");
        option.value = branch.id;
        option.textContent = branch.name && branch.name !== branch.id ? branch.id + " \u2013 " + branch.name : branch.id;
        if (branch.id === current.value) { option.selected = true; }
        select.appendChild(option);
      });
      current.replaceWith(select);
    }

    function useText() {
      var current = branchField();
      if (current.tagName !== "SELECT") { return; }
      var input = document.createElement("input");
      input.type = "text";
      input.id = "branch_id";
      input.name = "branch_id";
      input.className = "field-input";
      input.value = current.value;
      current.replaceWith(input);
    }

    function lookUp() {
      var key = login.value.trim() + "\n" + company.value.trim();
      if (!login.value.trim() || !company.value.trim() || key === asked) { return; }
      asked = key;
      fetch(form.getAttribute("data-branches-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf.value},
        body: JSON.stringify({login: login.value.trim(), company_id: company.value.trim()})
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        if (result.ok && result.body.branches && result.body.branches.length) {
          useSelect(result.body.branches);
          showText("");
        } else {
          useText();
          showText(result.body && result.body.detail && !result.ok ? result.body.detail : "");
        }
      }).catch(function () { useText(); asked = ""; });
    }

    login.addEventListener("change", lookUp);
    company.addEventListener("change", lookUp);
    lookUp();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
