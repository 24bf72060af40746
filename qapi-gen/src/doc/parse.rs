//! Splitting a documentation block into sections. (Placeholder: the block's
//! symbol only; replaced by the full parser.)

use indexmap::IndexMap;

use super::{Doc, DocStyle, Section, SectionKind};
use crate::diag::Diagnostics;
use crate::syntax::DocBlock;

/// Parses a documentation block; `None` after reporting an error in it.
pub fn parse(block: &DocBlock, _style: DocStyle, _diags: &mut Diagnostics) -> Option<Doc> {
    let first = block.lines.first().map(|l| l.text.trim_start_matches('#').trim());
    let symbol = first.filter(|l| l.starts_with('@') && l.ends_with(':')).map(|l| l[1..l.len() - 1].to_owned());
    let body = Section { kind: SectionKind::Plain, name: None, text: String::new(), span: block.open.span.clone() };
    Some(Doc {
        span: block.open.span.clone(),
        symbol,
        body,
        args: IndexMap::new(),
        features: IndexMap::new(),
        sections: Vec::new(),
    })
}
