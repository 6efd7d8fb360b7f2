/** Dates as the page shows them: "Nov 23, 2026, 2:24 PM" in the reader's locale. */
export const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
