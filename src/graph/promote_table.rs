// The table below is numpy 2's promotion of two array types, written out for the type
// system; the test `typed_promotion_matches_runtime` checks it against `DType::promote`.

macro_rules! promote_table {
    ($($a:ty, $b:ty => $o:ty;)*) => {
        $(impl Promote<$b> for $a { type Out = $o; })*
    };
}

promote_table! {
    bool, bool => bool; bool, i8 => i8; bool, i16 => i16; bool, i32 => i32; bool, i64 => i64; bool, u8 => u8; bool, u16 => u16; bool, u32 => u32; bool, u64 => u64; bool, f32 => f32; bool, f64 => f64;
    i8, bool => i8; i8, i8 => i8; i8, i16 => i16; i8, i32 => i32; i8, i64 => i64; i8, u8 => i16; i8, u16 => i32; i8, u32 => i64; i8, u64 => f64; i8, f32 => f32; i8, f64 => f64;
    i16, bool => i16; i16, i8 => i16; i16, i16 => i16; i16, i32 => i32; i16, i64 => i64; i16, u8 => i16; i16, u16 => i32; i16, u32 => i64; i16, u64 => f64; i16, f32 => f32; i16, f64 => f64;
    i32, bool => i32; i32, i8 => i32; i32, i16 => i32; i32, i32 => i32; i32, i64 => i64; i32, u8 => i32; i32, u16 => i32; i32, u32 => i64; i32, u64 => f64; i32, f32 => f64; i32, f64 => f64;
    i64, bool => i64; i64, i8 => i64; i64, i16 => i64; i64, i32 => i64; i64, i64 => i64; i64, u8 => i64; i64, u16 => i64; i64, u32 => i64; i64, u64 => f64; i64, f32 => f64; i64, f64 => f64;
    u8, bool => u8; u8, i8 => i16; u8, i16 => i16; u8, i32 => i32; u8, i64 => i64; u8, u8 => u8; u8, u16 => u16; u8, u32 => u32; u8, u64 => u64; u8, f32 => f32; u8, f64 => f64;
    u16, bool => u16; u16, i8 => i32; u16, i16 => i32; u16, i32 => i32; u16, i64 => i64; u16, u8 => u16; u16, u16 => u16; u16, u32 => u32; u16, u64 => u64; u16, f32 => f32; u16, f64 => f64;
    u32, bool => u32; u32, i8 => i64; u32, i16 => i64; u32, i32 => i64; u32, i64 => i64; u32, u8 => u32; u32, u16 => u32; u32, u32 => u32; u32, u64 => u64; u32, f32 => f64; u32, f64 => f64;
    u64, bool => u64; u64, i8 => f64; u64, i16 => f64; u64, i32 => f64; u64, i64 => f64; u64, u8 => u64; u64, u16 => u64; u64, u32 => u64; u64, u64 => u64; u64, f32 => f64; u64, f64 => f64;
    f32, bool => f32; f32, i8 => f32; f32, i16 => f32; f32, i32 => f64; f32, i64 => f64; f32, u8 => f32; f32, u16 => f32; f32, u32 => f64; f32, u64 => f64; f32, f32 => f32; f32, f64 => f64;
    f64, bool => f64; f64, i8 => f64; f64, i16 => f64; f64, i32 => f64; f64, i64 => f64; f64, u8 => f64; f64, u16 => f64; f64, u32 => f64; f64, u64 => f64; f64, f32 => f64; f64, f64 => f64;
}
