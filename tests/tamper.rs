//! Rule packs that were edited, hand-made or damaged are refused with a
//! clear message.
