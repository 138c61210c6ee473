//! A producer/consumer pipeline over an asyncio-style queue.
//!
//! Three producers put jobs into a bounded queue (`put` waits while it is full), four
//! consumer tasks take them, "process" them and call `task_done`; the main task waits for
//! every job with `join`, then tells the consumers to stop.
//!
//! ```text
//! cargo run --example pipeline
//! ```

use weft::Queue;

/// A unit of work: which producer made it and what to compute.
#[derive(Debug)]
struct Job {
    producer: usize,
    n: u64,
}

/// The "processing": a sum of squares, with a yield so the consumers interleave.
async fn process(job: &Job) -> u64 {
    weft::yield_now().await;
    (1..=job.n).map(|k| k * k).sum()
}

fn main() {
    let total = weft::run(async {
        // At most 4 jobs in flight: producers wait for room (backpressure).
        let jobs: Queue<Option<Job>> = Queue::new(4);
        // Results: unbounded (maxsize 0, as in asyncio).
        let results: Queue<(usize, usize, u64)> = Queue::new(0);

        let producers: Vec<_> = (0..3)
            .map(|p| {
                let jobs = jobs.clone();
                weft::spawn(async move {
                    for n in 1..=5 {
                        jobs.put(Some(Job {
                            producer: p,
                            n: n * 10,
                        }))
                        .await;
                    }
                    println!("producer {p}: queued 5 jobs");
                })
            })
            .collect();

        let consumers: Vec<_> = (0..4)
            .map(|c| {
                let (jobs, results) = (jobs.clone(), results.clone());
                weft::spawn(async move {
                    let mut done = 0;
                    while let Some(job) = jobs.get().await {
                        let value = process(&job).await;
                        results
                            .put_nowait((c, job.producer, value))
                            .expect("unbounded");
                        done += 1;
                        jobs.task_done();
                    }
                    jobs.task_done(); // the stop marker counts as a job too
                    done
                })
            })
            .collect();

        for p in producers {
            p.await.expect("producer failed");
        }
        // Every job put so far has been marked done.
        jobs.join().await;
        println!("all jobs processed; {} results waiting", results.qsize());

        // Stop the consumers: one marker each.
        for _ in 0..consumers.len() {
            jobs.put(None).await;
        }
        for (c, handle) in consumers.into_iter().enumerate() {
            println!(
                "consumer {c}: processed {} jobs",
                handle.await.expect("consumer failed")
            );
        }

        let mut total = 0;
        while let Ok((consumer, producer, value)) = results.get_nowait() {
            println!("  job from producer {producer} done by consumer {consumer}: {value}");
            total += value;
        }
        total
    });
    println!("total: {total}");
}
