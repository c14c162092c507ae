//! The generated state machine (`Workflow::execute`: the enum-driven driver, typed handlers
//! called directly, a typed handler's output passed to the next one without JSON) against the
//! interpreter on the same compiled definition (`Workflow::program()` run with `Runtime::run`:
//! the scope loop, handlers looked up in the runtime's registry and fed JSON), on three workloads:
//! w1 (100 Pass states in sequence, as in `../shared/bench`), and a sequence of three typed tasks
//! on a small order and on a cart of 50 lines (where not reading the data from JSON again shows).
//! The interpreter's handlers are registered with `RuntimeBuilder::handler`, the way a definition
//! known only at run time is served. Each runs with the default full history and with history off
//! (where the per-state work is all that is left).

use criterion::{criterion_group, criterion_main, Criterion};
use serde::{Deserialize, Serialize};
use serde_json::json;
use workflow::{
    workflow, ExecutionOutcome, HistoryLevel, Runtime, RuntimeBuilder, TaskError, Workflow,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub quantity: u32,
}

async fn validate(o: Order) -> Result<Order, TaskError> {
    Ok(o)
}

async fn price(o: Order) -> Result<Order, TaskError> {
    Ok(Order {
        quantity: o.quantity * 2,
        ..o
    })
}

async fn record(o: Order) -> Result<Order, TaskError> {
    Ok(o)
}

/// An order line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub sku: String,
    pub quantity: u32,
    pub price: f64,
}

/// A cart of 50 lines: large enough that reading it from JSON shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cart {
    pub id: String,
    pub lines: Vec<Line>,
    pub total: f64,
}

async fn check(c: Cart) -> Result<Cart, TaskError> {
    Ok(c)
}

async fn sum(mut c: Cart) -> Result<Cart, TaskError> {
    c.total = c
        .lines
        .iter()
        .map(|l| l.price * f64::from(l.quantity))
        .sum();
    Ok(c)
}

async fn store(c: Cart) -> Result<Cart, TaskError> {
    Ok(c)
}

fn cart() -> Cart {
    Cart {
        id: "c".into(),
        total: 0.0,
        lines: (0..50)
            .map(|i| Line {
                sku: format!("sku-{i}"),
                quantity: i,
                price: 1.5,
            })
            .collect(),
    }
}

workflow! {
    pub Chain {
        start P0;
        P0 = pass(parameters = { "value": $.value }, result_path = $.r) -> P1;
        P1 = pass(parameters = { "value": $.value }, result_path = $.r) -> P2;
        P2 = pass(parameters = { "value": $.value }, result_path = $.r) -> P3;
        P3 = pass(parameters = { "value": $.value }, result_path = $.r) -> P4;
        P4 = pass(parameters = { "value": $.value }, result_path = $.r) -> P5;
        P5 = pass(parameters = { "value": $.value }, result_path = $.r) -> P6;
        P6 = pass(parameters = { "value": $.value }, result_path = $.r) -> P7;
        P7 = pass(parameters = { "value": $.value }, result_path = $.r) -> P8;
        P8 = pass(parameters = { "value": $.value }, result_path = $.r) -> P9;
        P9 = pass(parameters = { "value": $.value }, result_path = $.r) -> P10;
        P10 = pass(parameters = { "value": $.value }, result_path = $.r) -> P11;
        P11 = pass(parameters = { "value": $.value }, result_path = $.r) -> P12;
        P12 = pass(parameters = { "value": $.value }, result_path = $.r) -> P13;
        P13 = pass(parameters = { "value": $.value }, result_path = $.r) -> P14;
        P14 = pass(parameters = { "value": $.value }, result_path = $.r) -> P15;
        P15 = pass(parameters = { "value": $.value }, result_path = $.r) -> P16;
        P16 = pass(parameters = { "value": $.value }, result_path = $.r) -> P17;
        P17 = pass(parameters = { "value": $.value }, result_path = $.r) -> P18;
        P18 = pass(parameters = { "value": $.value }, result_path = $.r) -> P19;
        P19 = pass(parameters = { "value": $.value }, result_path = $.r) -> P20;
        P20 = pass(parameters = { "value": $.value }, result_path = $.r) -> P21;
        P21 = pass(parameters = { "value": $.value }, result_path = $.r) -> P22;
        P22 = pass(parameters = { "value": $.value }, result_path = $.r) -> P23;
        P23 = pass(parameters = { "value": $.value }, result_path = $.r) -> P24;
        P24 = pass(parameters = { "value": $.value }, result_path = $.r) -> P25;
        P25 = pass(parameters = { "value": $.value }, result_path = $.r) -> P26;
        P26 = pass(parameters = { "value": $.value }, result_path = $.r) -> P27;
        P27 = pass(parameters = { "value": $.value }, result_path = $.r) -> P28;
        P28 = pass(parameters = { "value": $.value }, result_path = $.r) -> P29;
        P29 = pass(parameters = { "value": $.value }, result_path = $.r) -> P30;
        P30 = pass(parameters = { "value": $.value }, result_path = $.r) -> P31;
        P31 = pass(parameters = { "value": $.value }, result_path = $.r) -> P32;
        P32 = pass(parameters = { "value": $.value }, result_path = $.r) -> P33;
        P33 = pass(parameters = { "value": $.value }, result_path = $.r) -> P34;
        P34 = pass(parameters = { "value": $.value }, result_path = $.r) -> P35;
        P35 = pass(parameters = { "value": $.value }, result_path = $.r) -> P36;
        P36 = pass(parameters = { "value": $.value }, result_path = $.r) -> P37;
        P37 = pass(parameters = { "value": $.value }, result_path = $.r) -> P38;
        P38 = pass(parameters = { "value": $.value }, result_path = $.r) -> P39;
        P39 = pass(parameters = { "value": $.value }, result_path = $.r) -> P40;
        P40 = pass(parameters = { "value": $.value }, result_path = $.r) -> P41;
        P41 = pass(parameters = { "value": $.value }, result_path = $.r) -> P42;
        P42 = pass(parameters = { "value": $.value }, result_path = $.r) -> P43;
        P43 = pass(parameters = { "value": $.value }, result_path = $.r) -> P44;
        P44 = pass(parameters = { "value": $.value }, result_path = $.r) -> P45;
        P45 = pass(parameters = { "value": $.value }, result_path = $.r) -> P46;
        P46 = pass(parameters = { "value": $.value }, result_path = $.r) -> P47;
        P47 = pass(parameters = { "value": $.value }, result_path = $.r) -> P48;
        P48 = pass(parameters = { "value": $.value }, result_path = $.r) -> P49;
        P49 = pass(parameters = { "value": $.value }, result_path = $.r) -> P50;
        P50 = pass(parameters = { "value": $.value }, result_path = $.r) -> P51;
        P51 = pass(parameters = { "value": $.value }, result_path = $.r) -> P52;
        P52 = pass(parameters = { "value": $.value }, result_path = $.r) -> P53;
        P53 = pass(parameters = { "value": $.value }, result_path = $.r) -> P54;
        P54 = pass(parameters = { "value": $.value }, result_path = $.r) -> P55;
        P55 = pass(parameters = { "value": $.value }, result_path = $.r) -> P56;
        P56 = pass(parameters = { "value": $.value }, result_path = $.r) -> P57;
        P57 = pass(parameters = { "value": $.value }, result_path = $.r) -> P58;
        P58 = pass(parameters = { "value": $.value }, result_path = $.r) -> P59;
        P59 = pass(parameters = { "value": $.value }, result_path = $.r) -> P60;
        P60 = pass(parameters = { "value": $.value }, result_path = $.r) -> P61;
        P61 = pass(parameters = { "value": $.value }, result_path = $.r) -> P62;
        P62 = pass(parameters = { "value": $.value }, result_path = $.r) -> P63;
        P63 = pass(parameters = { "value": $.value }, result_path = $.r) -> P64;
        P64 = pass(parameters = { "value": $.value }, result_path = $.r) -> P65;
        P65 = pass(parameters = { "value": $.value }, result_path = $.r) -> P66;
        P66 = pass(parameters = { "value": $.value }, result_path = $.r) -> P67;
        P67 = pass(parameters = { "value": $.value }, result_path = $.r) -> P68;
        P68 = pass(parameters = { "value": $.value }, result_path = $.r) -> P69;
        P69 = pass(parameters = { "value": $.value }, result_path = $.r) -> P70;
        P70 = pass(parameters = { "value": $.value }, result_path = $.r) -> P71;
        P71 = pass(parameters = { "value": $.value }, result_path = $.r) -> P72;
        P72 = pass(parameters = { "value": $.value }, result_path = $.r) -> P73;
        P73 = pass(parameters = { "value": $.value }, result_path = $.r) -> P74;
        P74 = pass(parameters = { "value": $.value }, result_path = $.r) -> P75;
        P75 = pass(parameters = { "value": $.value }, result_path = $.r) -> P76;
        P76 = pass(parameters = { "value": $.value }, result_path = $.r) -> P77;
        P77 = pass(parameters = { "value": $.value }, result_path = $.r) -> P78;
        P78 = pass(parameters = { "value": $.value }, result_path = $.r) -> P79;
        P79 = pass(parameters = { "value": $.value }, result_path = $.r) -> P80;
        P80 = pass(parameters = { "value": $.value }, result_path = $.r) -> P81;
        P81 = pass(parameters = { "value": $.value }, result_path = $.r) -> P82;
        P82 = pass(parameters = { "value": $.value }, result_path = $.r) -> P83;
        P83 = pass(parameters = { "value": $.value }, result_path = $.r) -> P84;
        P84 = pass(parameters = { "value": $.value }, result_path = $.r) -> P85;
        P85 = pass(parameters = { "value": $.value }, result_path = $.r) -> P86;
        P86 = pass(parameters = { "value": $.value }, result_path = $.r) -> P87;
        P87 = pass(parameters = { "value": $.value }, result_path = $.r) -> P88;
        P88 = pass(parameters = { "value": $.value }, result_path = $.r) -> P89;
        P89 = pass(parameters = { "value": $.value }, result_path = $.r) -> P90;
        P90 = pass(parameters = { "value": $.value }, result_path = $.r) -> P91;
        P91 = pass(parameters = { "value": $.value }, result_path = $.r) -> P92;
        P92 = pass(parameters = { "value": $.value }, result_path = $.r) -> P93;
        P93 = pass(parameters = { "value": $.value }, result_path = $.r) -> P94;
        P94 = pass(parameters = { "value": $.value }, result_path = $.r) -> P95;
        P95 = pass(parameters = { "value": $.value }, result_path = $.r) -> P96;
        P96 = pass(parameters = { "value": $.value }, result_path = $.r) -> P97;
        P97 = pass(parameters = { "value": $.value }, result_path = $.r) -> P98;
        P98 = pass(parameters = { "value": $.value }, result_path = $.r) -> P99;
        P99 = pass(parameters = { "value": $.value }, result_path = $.r) -> end;
    }

    pub Tasks: Order -> Order {
        start Validate;
        Validate = task(validate) -> Price;
        Price = task(price) -> Record;
        Record = task(record) -> end;
    }

    pub Carts: Cart -> Cart {
        start Check;
        Check = task(check) -> Sum;
        Sum = task(sum) -> Store;
        Store = task(store) -> end;
    }
}

/// The input as the interpreter takes it: JSON (a `Value` is passed as is, as
/// `Workflow::execute` does).
fn json_input<T: Serialize + 'static>(input: T) -> serde_json::Value {
    let mut slot = Some(input);
    match (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<serde_json::Value>>() {
        Some(v) => v.take().unwrap_or_default(),
        None => serde_json::to_value(slot).expect("JSON"),
    }
}

fn bench_pair<W: Workflow>(
    c: &mut Criterion,
    name: &str,
    typed: impl Fn() -> W::Input,
    handlers: impl Fn(RuntimeBuilder) -> RuntimeBuilder,
) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let program = W::program().expect("compiles");
    for (level, suffix) in [
        (HistoryLevel::Full, ""),
        (HistoryLevel::Off, "_history_off"),
    ] {
        let runtime = W::runtime().seed(1).history(level).build();
        let plain = handlers(Runtime::builder()).seed(1).history(level).build();
        let input = || json_input(typed());
        let driven = tokio.block_on(W::execute(&runtime, typed())).expect("runs");
        let interpreted = tokio.block_on(plain.run(&program, input())).expect("runs");
        assert_eq!(driven.output, interpreted.output);
        let events = |o: &ExecutionOutcome| -> Vec<_> {
            o.history
                .iter()
                .map(|e| (e.event_type().to_string(), e.details()))
                .collect()
        };
        assert_eq!(events(&driven), events(&interpreted));
        let mut group = c.benchmark_group(format!("{name}{suffix}"));
        group.bench_function("driver", |b| {
            b.iter(|| tokio.block_on(W::execute(&runtime, typed())).expect("runs"))
        });
        group.bench_function("interpreter", |b| {
            b.iter(|| tokio.block_on(plain.run(&program, input())).expect("runs"))
        });
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    bench_pair::<Chain>(c, "w1_chain_100_pass", || json!({ "value": 1 }), |b| b);
    bench_pair::<Tasks>(
        c,
        "three_typed_tasks",
        || Order {
            id: "o".into(),
            quantity: 2,
        },
        |b| {
            b.handler("${validate}", validate)
                .handler("${price}", price)
                .handler("${record}", record)
        },
    );
    bench_pair::<Carts>(c, "three_typed_tasks_50_lines", cart, |b| {
        b.handler("${check}", check)
            .handler("${sum}", sum)
            .handler("${store}", store)
    });
}

criterion_group!(macro_vs_interpreter, benches);
criterion_main!(macro_vs_interpreter);
