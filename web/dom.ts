// Building the page's elements. Text from the server (posts, handles, errors)
// only ever becomes text nodes: nothing is parsed as HTML, so a post cannot
// inject markup (and the CSP forbids inline script anyway).
type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  setProps(element, props);
  element.append(...toNodes(children));
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s<K extends keyof SVGElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  setProps(element, props);
  element.append(...toNodes(children));
  return element;
}

function setProps(element: Element, props: Props): void {
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === false || value === null || value === undefined) continue;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
}

function toNodes(children: Child[]): Array<Node | string> {
  return children.filter((c) => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : (c as Node | string)));
}

/** The element with this id; the page's skeleton (index.html) has every one the scripts use. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

export function show(element: Element, visible: boolean): void {
  (element as HTMLElement).hidden = !visible;
}
