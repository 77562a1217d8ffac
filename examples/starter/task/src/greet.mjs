/** A greeting for `name`, or for the world when no name is given. */
export function greet(name) {
  return `Hello, ${name}!`;
}
