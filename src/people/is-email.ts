// validator's whole entry loads its 112 checks (about 1 MB of heap in the service); only
// the email check is used. Its CommonJS module is typed as a namespace whose default is
// the function.
import isEmailModule from 'validator/lib/isEmail.js';

export const isEmail = isEmailModule.default;
