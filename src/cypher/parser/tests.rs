use super::*;

#[test]
fn smoke() {
    let s = parse("MATCH (a:Person {name: 'x'})-[r:KNOWS*1..2]->(b) WHERE a.age > 3 RETURN a.name AS n, count(*) ORDER BY n DESC LIMIT 3").unwrap();
    println!("{s:#?}");
    for q in [
        "RETRUN 1",
        "MATCH (n RETURN n",
        "RETURN 'abc",
        "RETURN 1 +",
        "RETURN 99999999999999999999",
    ] {
        println!("{q}: {}", parse(q).unwrap_err());
    }
}
