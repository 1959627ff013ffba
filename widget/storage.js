// The widget's localStorage access: never throws, so private modes and blocked storage work for the life of the page.
export const load = (key) => { try { return localStorage.getItem(key); } catch { return null; } };
export const store = (key, value) => {
  try { value == null ? localStorage.removeItem(key) : localStorage.setItem(key, value); } catch { /* unavailable */ }
};
