//! Out-of-domain background: generic requests a bot's users make that are not any of its
//! intents (banking, travel, time and alarms, home, shopping, food, health, facts, support,
//! small talk), written for Hearth (from no data set). Every build embeds them (once per
//! process, see `Lex::background_vectors`) and keeps, in the model, those that are not close to
//! any of the bot's own intents: a banking bot's "how much money is in my checking account"
//! is its CheckBalance, not background. At runtime an utterance closer to a kept background
//! line than to its best intent loses confidence ([`super::nlu::rank`]), so "book a plane
//! ticket" falls back in a restaurant bot even though it shares "book" with BookRestaurant.
//!
//! This is the few-shot out-of-scope technique of using generic negatives as a competing class;
//! no crate ships such a list, so it is written here. None of these lines is within cosine
//! 0.75 (MiniLM-L6) of a line of bench/lex's out-of-scope sets (checked when it was written).

use super::model::{BotModel, Matrix};
use super::nlu::{intent_calibration, Scoring};
use hearth_inference::text::dot;

/// The background sentences, embedded at build.
pub const SENTENCES: &[&str] = &[
    "how much money is in my checking account",
    "move fifty euros from checking to savings",
    "my debit card got declined at the store",
    "what's the interest rate on my savings",
    "I need to dispute a charge",
    "can I raise my credit limit",
    "when is my loan payment due",
    "open a new bank account for me",
    "what's the routing number",
    "freeze my card please",
    "apply for a mortgage",
    "how do I set up direct deposit",
    "I want to buy a plane ticket to Chicago",
    "is my train running late",
    "book me a rental car at the airport",
    "do I need a visa to visit Brazil",
    "how much luggage can I bring on the plane",
    "find me a cheap hostel in Prague",
    "what gate does my flight leave from",
    "how long is the drive to San Francisco",
    "what's the fastest route to work",
    "is there heavy traffic downtown",
    "where can I charge my electric car",
    "how much is a bus ticket",
    "what time is it in Sydney right now",
    "which day is the first of March",
    "snooze my alarm",
    "remind me to pay rent on Friday",
    "start a countdown for twenty minutes",
    "what meetings do I have this afternoon",
    "add a dentist visit to my calendar on Tuesday",
    "cancel my three o'clock meeting",
    "call the office",
    "read me my unread texts",
    "write an email to my boss",
    "switch on the kitchen lights",
    "make the living room warmer",
    "is the back door locked",
    "start the robot vacuum",
    "order more paper towels",
    "where is my package",
    "I want a refund for my order",
    "return the jacket I bought last week",
    "is this item in stock",
    "how much does shipping cost",
    "add eggs to the grocery list",
    "what can I cook with chicken and rice",
    "how many calories in a banana",
    "is it safe to eat raw cookie dough",
    "how long should I bake salmon",
    "suggest a vegetarian dinner",
    "what wine goes with steak",
    "I have a sore throat what should I do",
    "when should I take my medicine",
    "how many steps did I walk today",
    "what is seven times eight",
    "convert twenty pounds to kilograms",
    "how many feet in a mile",
    "what's the tip on sixty dollars",
    "what's the boiling point of water",
    "who painted the Sistine Chapel ceiling",
    "how deep is the ocean",
    "who invented the telephone",
    "what's the largest country in the world",
    "what does photosynthesis mean",
    "how do you spell restaurant",
    "what's a synonym for happy",
    "what's the German word for apple",
    "translate good morning into French",
    "give me the headlines",
    "what's the score in the basketball game",
    "when does the next Olympics start",
    "how is the stock market doing today",
    "what's the price of bitcoin",
    "how much is a dollar in yen",
    "my internet is not working",
    "how do I update my phone",
    "my laptop won't turn on",
    "I forgot my username",
    "delete my account",
    "talk to a human agent",
    "I want to speak to customer service",
    "what's my insurance deductible",
    "file a claim for my car accident",
    "when is my electricity bill due",
    "how much do I owe on my phone bill",
    "my car needs an oil change",
    "when is my car due for service",
    "what's wrong if the engine light is on",
    "how often should I feed my dog",
    "find a vet near me",
    "what's a good name for a cat",
    "hi",
    "hello there",
    "good morning to you",
    "how are you doing today",
    "what's your name",
    "who made you",
    "are you human",
    "thanks a lot",
    "that's helpful",
    "goodbye for now",
    "see you tomorrow",
    "never mind",
    "can you repeat that",
    "I didn't understand",
    "what can you help me with",
    "help",
    "yes",
    "no",
    "maybe later",
    "I'm bored",
    "tell me something funny",
    "tell me a fun fact",
    "sing me a song",
    "how old are you",
    "do you like me",
    "what's your favorite color",
    "what's the meaning of this",
    "I'm feeling sad today",
    "how do I tie a tie",
    "how do I remove a stain from a shirt",
    "what's the best way to save money",
    "how can I sleep better",
    "how do I plant tomatoes",
    "when should I prune roses",
    "how do I fix a leaky faucet",
    "who can repair my washing machine",
    "schedule a cleaning service",
    "find a babysitter for Saturday",
    "how much vacation time do I have left",
    "request a day off next Friday",
    "what's the company's holiday schedule",
    "when is payday",
    "apply for a job at your company",
    "how do I enroll in a class",
    "what's my grade in math",
    "when is the library open",
    "where is the nearest post office",
    "how do I renew my driver's license",
    "register to vote",
    "what's the phone number for the police",
    "is the pharmacy open late",
    "find a gym nearby",
    "book a tennis court",
    "how many people live in Tokyo",
    "what's the tallest mountain",
    "when did World War Two end",
    "who is the author of Harry Potter",
    "what's the plot of the Odyssey",
    "how long is a marathon",
    "what's the time difference with London",
    "find me a hair salon",
    "book a spa day for two",
    "buy a gift for my mom",
    "what should I get my friend for her birthday",
    "track my fitness goals",
    "log my weight",
    "how much water should I drink a day",
    "show me photos from last summer",
    "take a screenshot",
    "turn up the volume",
    "mute the phone",
    "set my phone to do not disturb",
    "what's the battery level",
    "share my location with my dad",
    "find my lost phone",
    "what's the license plate of my car",
    "lock my car",
    "how much gas is left in the car",
];

/// The raw score (the blend [`super::nlu::rank`] ranks by) of `v` for intent `i`.
fn raw_score(model: &BotModel, i: usize, v: &[f32], w: f32) -> Option<f32> {
    let centroid = model.centroids.get(i)?;
    if centroid.len() != v.len() {
        return None;
    }
    let nearest = model
        .owners
        .iter()
        .enumerate()
        .filter(|(_, &o)| o as usize == i)
        .map(|(row, _)| dot(model.vectors.row(row), v))
        .fold(f32::MIN, f32::max);
    let cos = dot(centroid, v);
    let nn = if nearest == f32::MIN { cos } else { nearest };
    Some(w * cos + (1.0 - w) * nn)
}

/// Keep in `model` the background vectors (one per [`SENTENCES`] line, unit length) that no
/// intent of the model claims: a line is dropped when its raw score for some intent reaches
/// `scoring.background_keep` times that intent's calibration (the mean leave-one-out score of
/// its samples, i.e. how close a real paraphrase typically comes). Vectors of another length
/// than the model's are ignored (no background, scores as before).
pub fn attach(model: &mut BotModel, vectors: &[Vec<f32>], scoring: Scoring) {
    let dim = model.vectors.dim;
    let w = scoring.centroid_weight.clamp(0.0, 1.0);
    let mus: Vec<f32> = (0..model.intents.len())
        .map(|i| intent_calibration(model, i).unwrap_or(scoring.typical_score))
        .collect();
    let mut data = Vec::new();
    for v in vectors.iter().filter(|v| dim > 0 && v.len() == dim) {
        let claimed = mus.iter().enumerate().any(|(i, &mu)| {
            raw_score(model, i, v, w).is_some_and(|s| s >= scoring.background_keep * mu)
        });
        if !claimed {
            data.extend_from_slice(v);
        }
    }
    model.background = Matrix { dim, data };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{compile, tests::bank};

    #[test]
    fn lines_are_unique_and_plain() {
        let mut seen = std::collections::HashSet::new();
        for s in SENTENCES {
            assert!(seen.insert(s.to_lowercase()), "duplicate {s}");
            assert!(!s.is_empty() && s.len() < 80, "{s}");
        }
        assert!(SENTENCES.len() >= 150);
    }

    #[test]
    fn lines_an_intent_claims_are_dropped() {
        // Two-dimensional toy vectors: the bank bot's samples all point along x or y; a
        // background line on top of a sample is claimed, one orthogonal to all is kept.
        let c = compile(&bank()).unwrap();
        let vectors: Vec<Vec<f32>> = (0..c.texts.len())
            .map(|i| {
                if i % 2 == 0 {
                    vec![1.0, 0.0, 0.0]
                } else {
                    vec![0.0, 1.0, 0.0]
                }
            })
            .collect();
        let mut m = c.finish(vectors).unwrap();
        let bg = vec![vec![1.0, 0.0, 0.0], vec![0.0, 0.0, 1.0], vec![0.0, 1.0]];
        attach(&mut m, &bg, Scoring::default());
        assert_eq!(m.background.dim, 3);
        assert_eq!(
            m.background.data,
            vec![0.0, 0.0, 1.0],
            "claimed and wrong-length lines dropped"
        );
    }
}
