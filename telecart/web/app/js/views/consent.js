// The privacy consent prompt, shown before the shop when the shop has a
// privacy policy link and the customer has not accepted it yet.

import { api } from '../api.js';
import { h, icon, toast } from '../dom.js';
import { openLink, haptic } from '../telegram.js';
import { t, shopText, errorText } from '../i18n.js';

// showConsent renders the prompt into container and resolves once the
// consent is recorded.
export function showConsent(container, { link, shopName }) {
  return new Promise((resolve) => {
    let busy = false;
    const accept = async () => {
      if (busy) return;
      busy = true;
      button.disabled = true;
      try {
        await api('/privacy-consent', { method: 'POST', body: {} });
        haptic('success');
        resolve();
      } catch (err) {
        toast(errorText(err, 'consent.failed'));
      } finally {
        busy = false;
        button.disabled = false;
      }
    };
    const a = h('a', {
      href: link,
      target: '_blank',
      rel: 'noopener noreferrer',
      'data-testid': 'consent-link',
      id: 'consent-link',
      text: t('consent.policy'),
      onclick: (e) => openLink(a.href, e),
    });
    const button = h('button', {
      type: 'button', class: 'btn btn-primary btn-block', id: 'consent-accept', 'data-testid': 'consent-accept',
      text: shopText('consent_button'), onclick: accept,
    });
    container.append(h('section', { class: 'consent', id: 'consent', 'data-testid': 'consent', role: 'dialog', 'aria-labelledby': 'consent-title' },
      h('div', { class: 'success-mark' }, icon('shield')),
      h('h1', { id: 'consent-title', text: shopName || t('consent.welcome') }),
      h('p', { 'data-testid': 'consent-text', text: shopText('consent_text') }),
      h('p', {}, a),
      h('div', { class: 'consent-actions' }, button)));
  });
}
