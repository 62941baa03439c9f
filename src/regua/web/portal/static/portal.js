// Progressive enhancement only: the code is in a readonly field that can be selected and
// copied by hand; with JavaScript a button copies it in one tap.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field || !navigator.clipboard) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = "Código copiado";
    }, function () { field.select(); });
  });
});
