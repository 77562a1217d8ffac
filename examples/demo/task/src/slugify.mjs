/** Turn a title into a URL slug: "Hello, World!" → "hello-world". */
export function slugify(text) {
  let slug = text.trim().toLowerCase();
  slug = slug.replace(' ', '-');
  return slug;
}
