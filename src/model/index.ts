// The read model of a cassette: what its events mean, for every reader (see read-model.ts).
export {
  CassetteModel,
  readModel,
  type ActivityView,
  type Cause,
  type ConversationEvent,
  type ConversationView,
  type DeliveryView,
  type ExchangeView,
  type Indexed,
  type Role,
  type SocketView,
} from './read-model.js';
export {
  bodyJson,
  conversationIdInBody,
  deliveredSet,
  echoIdOf,
  getCI,
  isBlankFrame,
  isKeepAlive,
  postedActivity,
  userIdOfStartBody,
  watermarkString,
} from './values.js';
