// Shows each <time data-local-time datetime="…"> in the reader's own time zone and format; the server wrote UTC,
// which stays as the text when scripts are off.
for (const element of document.querySelectorAll("time[data-local-time]")) {
  const when = new Date(element.dateTime);
  if (!Number.isNaN(when.getTime())) element.textContent = when.toLocaleString();
}
