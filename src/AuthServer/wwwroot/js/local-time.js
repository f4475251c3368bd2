// Shows each <time data-local-time datetime="…"> in the reader's own time zone, formatted for the page's language;
// the server wrote the UTC value, which stays as the text when scripts are off.
(() => {
  const language = document.documentElement.lang || undefined;
  const format = new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" });
  for (const element of document.querySelectorAll("time[data-local-time]")) {
    const when = new Date(element.dateTime);
    if (Number.isNaN(when.getTime())) continue;
    element.textContent = format.format(when);
    element.title = element.dateTime;
  }
})();
