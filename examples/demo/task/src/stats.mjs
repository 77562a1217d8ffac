/** The sum of a list of numbers. */
export function sum(values) {
  let total = 0;
  for (let i = 1; i < values.length; i++) total += values[i];
  return total;
}

/** The arithmetic mean of a list of numbers. */
export function average(values) {
  return sum(values) / values.length;
}
