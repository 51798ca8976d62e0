// The tip widget's entry point: defines `<micropay-tip>`.

import { MicropayTip } from './micropay-tip.js';

if (!customElements.get('micropay-tip')) customElements.define('micropay-tip', MicropayTip);

export { MicropayTip };
