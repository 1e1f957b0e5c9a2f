/**
 * What a user does in a browser to approve (or decline) a device login, done over HTTP against the
 * provider's own pages: open the verification page, type the user code, confirm, sign in and
 * consent. A tiny form-following browser with a cookie jar, enough for the provider's pages.
 */

/**
 * What {@link approveDeviceCode} and {@link denyDeviceCode} need to play the user: where to go,
 * the code to type, and whom to sign in as.
 */
export interface DeviceApproval {
  /** The verification URL the login command printed. */
  verificationUri: string;
  /** The code the login command printed. */
  userCode: string;
  /**
   * Any user name works on the local provider; it becomes the token's subject.
   * @default "alice"
   */
  login?: string;
  /** Any password works on the local provider. @default "any-password" */
  password?: string;
}

interface HtmlForm {
  action: string;
  fields: Record<string, string>;
}

class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag);
  return match ? match[1].replace(/&amp;/g, '&') : undefined;
}

/** Buttons outside the form that belong to it by their `form="<id>"` attribute. */
function buttonsOf(html: string, formId: string | undefined): string[] {
  if (!formId) return [];
  return (html.match(/<button\b[^>]*>/gi) ?? []).filter((button) => attribute(button, 'form') === formId);
}

/** The first POST form of a page with its named inputs (and a named submit button's value). */
function firstForm(html: string, pageUrl: string): HtmlForm | undefined {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const openTag = /<form\b[^>]*>/i.exec(form[0])![0];
  const fields: Record<string, string> = {};
  for (const input of [
    ...(form[1].match(/<(input|button)\b[^>]*>/gi) ?? []),
    ...buttonsOf(html, attribute(openTag, 'id')),
  ]) {
    const name = attribute(input, 'name');
    if (name && !(name in fields)) fields[name] = attribute(input, 'value') ?? '';
  }
  return { action: new URL(attribute(openTag, 'action') ?? pageUrl, pageUrl).href, fields };
}

/** Follows redirects by hand, so every cookie on the way lands in the jar. */
async function navigate(jar: CookieJar, url: string, init: RequestInit = {}): Promise<{ url: string; html: string }> {
  let target = url;
  let request = init;
  for (let hops = 0; hops < 20; hops++) {
    const response = await fetch(target, {
      ...request,
      redirect: 'manual',
      headers: { ...(request.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.take(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      target = new URL(location, target).href;
      request = {};
      continue;
    }
    const html = await response.text();
    if (!response.ok) throw new Error(`${target} answered HTTP ${response.status}: ${html.slice(0, 200)}`);
    return { url: target, html };
  }
  throw new Error(`too many redirects from ${url}`);
}

/**
 * Approves a pending device login like a user would: the verification page, the user code, the
 * confirmation, the sign-in form and the consent form, in whatever order the provider shows them.
 * Resolves when the provider says the device is signed in.
 */
export async function approveDeviceCode(approval: DeviceApproval): Promise<void> {
  return answerDeviceCode(approval, 'confirm');
}

/**
 * Declines a pending device login like a user would: types the user code, then presses abort on
 * the confirmation. The device's login then ends in `access_denied`.
 */
export async function denyDeviceCode(approval: Pick<DeviceApproval, 'verificationUri' | 'userCode'>): Promise<void> {
  return answerDeviceCode(approval, 'abort');
}

async function answerDeviceCode(approval: DeviceApproval, answer: 'confirm' | 'abort'): Promise<void> {
  const jar = new CookieJar();
  const typed: Record<string, string> = {
    user_code: approval.userCode,
    login: approval.login ?? 'alice',
    password: approval.password ?? 'any-password',
  };
  let page = await navigate(jar, approval.verificationUri);
  for (let step = 0; step < 10; step++) {
    const form = firstForm(page.html, page.url);
    if (!form) {
      if (/success|signed in|you may close|your sign-in/i.test(page.html)) return;
      throw new Error(`the provider's page at ${page.url} has no form and no success message`);
    }
    // An abort button shares the form with confirm: the user presses one of them.
    const aborting = answer === 'abort' && 'abort' in form.fields;
    delete form.fields[aborting ? 'confirm' : 'abort'];
    for (const name of Object.keys(form.fields)) if (name in typed) form.fields[name] = typed[name];
    const submit = navigate(jar, form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form.fields).toString(),
    });
    if (aborting) {
      // The provider answers an abort with an error page (the request was interrupted): expected.
      await submit.catch((err: unknown) => {
        if (!(err instanceof Error && / answered HTTP 4\d\d/.test(err.message))) throw err;
      });
      return;
    }
    page = await submit;
  }
  throw new Error(`the device ${answer === 'abort' ? 'denial' : 'approval'} did not finish within 10 pages`);
}
